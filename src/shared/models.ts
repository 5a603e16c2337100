/**
 * The local-models plane's contracts (docs/models.md): the warm pool's config and status, load
 * triggers, unload reasons, model discovery and per-NPC model settings. Shared by the runtime and the
 * renderer. Imports nothing from Node, Electron or the DOM.
 */
import { z } from 'zod';
import { ModelRef } from './common';

/** Why a model was loaded: a turn needed it, a prewarm trigger guessed it would, or a crash restart. */
export const LoadTrigger = z.enum([
  'turn',
  'session_open',
  'npc_selected',
  'typing',
  'agent_prediction',
  'manual',
  'restart',
]);
export type LoadTrigger = z.infer<typeof LoadTrigger>;

/** Client hints that may prewarm a model (the other triggers come from the runtime itself). */
export const PrewarmHint = z.enum(['npc_selected', 'typing']);
export type PrewarmHint = z.infer<typeof PrewarmHint>;

export const UnloadReason = z.enum(['idle_ttl', 'evicted_lru', 'memory_budget', 'manual', 'crashed']);
export type UnloadReason = z.infer<typeof UnloadReason>;

export const PooledModelState = z.enum(['unloaded', 'loading', 'ready', 'failed', 'restarting']);
export type PooledModelState = z.infer<typeof PooledModelState>;

export const ModelPoolConfig = z.object({
  /** Models loaded at once, across all sessions. */
  max_loaded: z.number().int().min(1).max(64),
  /** RAM the loaded models may take together (node-llama-cpp's estimate before load, measured after). */
  memory_budget_bytes: z
    .number()
    .int()
    .min(1024 ** 2),
  /** An idle model is unloaded after this long; 0 keeps models until evicted. */
  idle_ttl_ms: z.number().int().nonnegative(),
  /** Predictive prewarm: load the likely model on session open, NPC selection, typing, agent prediction. */
  prewarm: z.boolean(),
});
export type ModelPoolConfig = z.infer<typeof ModelPoolConfig>;
/** A partial change of the limits; unknown keys are refused. */
export const ModelPoolConfigPatch = z.strictObject(ModelPoolConfig.shape).partial();
export type ModelPoolConfigPatch = z.infer<typeof ModelPoolConfigPatch>;

export const PooledModelStatus = z.object({
  model: ModelRef,
  state: PooledModelState,
  /** Load progress 0..1 while loading. */
  progress: z.number().min(0).max(1),
  /** Measured RAM once loaded, bytes. */
  memory_bytes: z.number().nonnegative().nullable(),
  /** Estimated RAM before load, bytes. */
  estimated_bytes: z.number().nonnegative().nullable(),
  /** Turns using it now; a busy model is never evicted. */
  busy: z.number().int().nonnegative(),
  idle_ms: z.number().nonnegative().nullable(),
  /** The worker process holding it, for local models. */
  pid: z.number().int().nullable(),
  load_ms: z.number().nonnegative().nullable(),
  loaded_by: LoadTrigger.nullable(),
  loads: z.number().int().nonnegative(),
  /** Crashes within the breaker window. */
  crashes: z.number().int().nonnegative(),
  /** Epoch ms until which the pool will not restart it (circuit open). */
  circuit_open_until: z.number().nullable(),
  last_error: z.string().nullable(),
});
export type PooledModelStatus = z.infer<typeof PooledModelStatus>;

export const ModelPoolStatus = z.object({
  config: ModelPoolConfig,
  used_bytes: z.number().nonnegative(),
  models: z.array(PooledModelStatus),
});
export type ModelPoolStatus = z.infer<typeof ModelPoolStatus>;

/** A model found by discovery (a GGUF in the models folder or the embedded model). */
export const DiscoveredModel = z.object({
  model: ModelRef,
  path: z.string().nullable(),
  name: z.string().nullable(),
  architecture: z.string().nullable(),
  parameters: z.number().nonnegative().nullable(),
  quantization: z.string().nullable(),
  context_length: z.number().int().nonnegative().nullable(),
  file_bytes: z.number().nonnegative().nullable(),
  estimated_bytes: z.number().nonnegative().nullable(),
  /** Why the file cannot be used, when it cannot. */
  error: z.string().nullable(),
});
export type DiscoveredModel = z.infer<typeof DiscoveredModel>;

export const NpcSampling = z.object({
  temperature: z.number().min(0).max(5),
  top_p: z.number().gt(0).max(1),
  max_tokens: z.number().int().min(1).max(8192),
  seed: z.number().int().nonnegative(),
});
export type NpcSampling = z.infer<typeof NpcSampling>;
export const NpcSamplingPatch = NpcSampling.partial();
export type NpcSamplingPatch = z.infer<typeof NpcSamplingPatch>;

/** The model and sampling an NPC speaks with; the designer's choice overrides the scenario's. */
export const NpcModelSetting = z.object({
  scenario_id: z.string(),
  npc_id: z.string(),
  model: ModelRef,
  sampling: NpcSampling,
  /** `scenario`: as the scenario file says; `default`: the host's default model; `designer`: chosen in the UI. */
  source: z.enum(['scenario', 'default', 'designer']),
});
export type NpcModelSetting = z.infer<typeof NpcModelSetting>;
