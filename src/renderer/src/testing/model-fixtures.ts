/** Results of the local-models commands (`models.*`, `npc.settings.*`) for tests. */
import type { ModelRef } from '../../../shared/common';
import type {
  DiscoveredModel,
  ModelPoolConfig,
  ModelPoolStatus,
  NpcModelSetting,
  PooledModelStatus,
} from '../../../shared/models';

export const MIRA_MODEL: ModelRef = { backend: 'scripted', model_id: 'wayside-mira' };
export const WREN_MODEL: ModelRef = { backend: 'scripted', model_id: 'wayside-wren' };
export const GGUF_MODEL: ModelRef = { backend: 'llama', model_id: 'tiny-q4' };

export const POOL_CONFIG: ModelPoolConfig = {
  max_loaded: 2,
  memory_budget_bytes: 4 * 1024 ** 3,
  idle_ttl_ms: 600_000,
  prewarm: true,
};

export function pooled(model: ModelRef, overrides: Partial<PooledModelStatus> = {}): PooledModelStatus {
  return {
    model,
    state: 'ready',
    progress: 1,
    memory_bytes: null,
    estimated_bytes: null,
    busy: 0,
    idle_ms: 1_200,
    pid: null,
    load_ms: 4,
    loaded_by: 'session_open',
    loads: 1,
    crashes: 0,
    circuit_open_until: null,
    last_error: null,
    ...overrides,
  };
}

export function poolStatus(
  models: PooledModelStatus[] = [pooled(MIRA_MODEL)],
  config: Partial<ModelPoolConfig> = {},
): ModelPoolStatus {
  return { config: { ...POOL_CONFIG, ...config }, used_bytes: 0, models };
}

export function discovered(model: ModelRef, overrides: Partial<DiscoveredModel> = {}): DiscoveredModel {
  return {
    model,
    path: `/models/${model.model_id}.gguf`,
    name: model.model_id,
    architecture: 'llama',
    parameters: 1.1e9,
    quantization: 'Q4_K_M',
    context_length: 2048,
    file_bytes: 668 * 1024 ** 2,
    estimated_bytes: 900 * 1024 ** 2,
    error: null,
    ...overrides,
  };
}

export function npcSetting(
  npcId: string,
  model: ModelRef,
  overrides: Partial<NpcModelSetting> = {},
): NpcModelSetting {
  return {
    scenario_id: 'wayside-inn',
    npc_id: npcId,
    model,
    sampling: { temperature: 0.7, top_p: 0.95, max_tokens: 256, seed: 1 },
    source: 'scenario',
    ...overrides,
  };
}
