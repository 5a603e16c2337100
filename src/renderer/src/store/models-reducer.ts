/**
 * The local-models plane as the runtime last answered: the warm pool's config and status
 * (`models.status`), model discovery (`models.list`) and the per-NPC model settings
 * (`npc.settings.get` / `npc.settings.set`). Runtime-wide, not per session. A cache read on request;
 * between reads the pool's lifecycle events (`model_loading`, `model_ready`, `model_unloaded`,
 * `model_failed`) move the rows it already holds, so a load's progress shows without waiting for the
 * next read. Plain functions; the store calls them.
 */
import type { ModelRef } from '../../../shared/common';
import type { ModelsListResult } from '../../../shared/commands';
import type {
  ModelPoolConfig,
  ModelPoolStatus,
  NpcModelSetting,
  PooledModelState,
  PooledModelStatus,
} from '../../../shared/models';
import type { EnvelopeOf, EventEnvelope } from '../../../shared/protocol';

/** A load or unload the user asked for, while its command is on its way. */
export type ModelAction = 'load' | 'unload';

export interface ModelsState {
  status: ModelPoolStatus | null;
  statusLoading: boolean;
  /** Why the last `models.status` failed; cleared by the next answer. */
  statusError: string | null;
  discovery: ModelsListResult | null;
  discoveryLoading: boolean;
  discoveryError: string | null;
  /** By scenario id: every NPC's model and sampling, as last read or set. */
  npcSettings: Readonly<Record<string, readonly NpcModelSetting[]>>;
  npcSettingsLoading: boolean;
  npcSettingsError: string | null;
  /** Load and unload commands in flight, by `modelKey`. */
  pending: Readonly<Record<string, ModelAction>>;
}

export const EMPTY_MODELS: ModelsState = {
  status: null,
  statusLoading: false,
  statusError: null,
  discovery: null,
  discoveryLoading: false,
  discoveryError: null,
  npcSettings: {},
  npcSettingsLoading: false,
  npcSettingsError: null,
  pending: {},
};

/** `backend/model_id`: how a model reads, and its identity in maps. */
export function modelKey(model: ModelRef): string {
  return `${model.backend}/${model.model_id}`;
}

export function sameModel(a: ModelRef, b: ModelRef): boolean {
  return a.backend === b.backend && a.model_id === b.model_id;
}

export function statusRequested(state: ModelsState): ModelsState {
  return state.statusLoading ? state : { ...state, statusLoading: true };
}

export function statusLoaded(state: ModelsState, status: ModelPoolStatus): ModelsState {
  return { ...state, status, statusLoading: false, statusError: null };
}

export function statusFailed(state: ModelsState, error: string): ModelsState {
  return { ...state, statusLoading: false, statusError: error };
}

export function discoveryRequested(state: ModelsState): ModelsState {
  return { ...state, discoveryLoading: true };
}

export function discoveryLoaded(state: ModelsState, discovery: ModelsListResult): ModelsState {
  return { ...state, discovery, discoveryLoading: false, discoveryError: null };
}

export function discoveryFailed(state: ModelsState, error: string): ModelsState {
  return { ...state, discoveryLoading: false, discoveryError: error };
}

export function npcSettingsRequested(state: ModelsState): ModelsState {
  return { ...state, npcSettingsLoading: true };
}

/** The answer of `npc.settings.get`: every NPC of the scenarios it lists replaces what was held for them. */
export function npcSettingsLoaded(state: ModelsState, settings: readonly NpcModelSetting[]): ModelsState {
  const byScenario: Record<string, NpcModelSetting[]> = {};
  for (const s of settings) (byScenario[s.scenario_id] ??= []).push(s);
  return {
    ...state,
    npcSettings: { ...state.npcSettings, ...byScenario },
    npcSettingsLoading: false,
    npcSettingsError: null,
  };
}

export function npcSettingsFailed(state: ModelsState, error: string): ModelsState {
  return { ...state, npcSettingsLoading: false, npcSettingsError: error };
}

/** The answer of `npc.settings.set`: that one NPC's setting, in its place (or added). */
export function npcSettingLoaded(state: ModelsState, setting: NpcModelSetting): ModelsState {
  const list = state.npcSettings[setting.scenario_id] ?? [];
  const index = list.findIndex((s) => s.npc_id === setting.npc_id);
  const next = index === -1 ? [...list, setting] : list.map((s, i) => (i === index ? setting : s));
  return { ...state, npcSettings: { ...state.npcSettings, [setting.scenario_id]: next } };
}

/** The answer of `models.config.set`: the pool's whole config after the change. */
export function poolConfigLoaded(state: ModelsState, config: ModelPoolConfig): ModelsState {
  return state.status === null ? state : { ...state, status: { ...state.status, config } };
}

export function modelActionStarted(state: ModelsState, model: ModelRef, action: ModelAction): ModelsState {
  return { ...state, pending: { ...state.pending, [modelKey(model)]: action } };
}

export function modelActionEnded(state: ModelsState, model: ModelRef): ModelsState {
  const key = modelKey(model);
  if (!(key in state.pending)) return state;
  const { [key]: _done, ...pending } = state.pending;
  return { ...state, pending };
}

/**
 * What `models.load` answered: the model's state now. A model the status does not list yet gets a row
 * (the next read fills in the rest).
 */
export function modelStateLoaded(
  state: ModelsState,
  model: ModelRef,
  modelState: PooledModelState,
): ModelsState {
  if (state.status === null) return state;
  const rows = state.status.models;
  const index = rows.findIndex((m) => sameModel(m.model, model));
  const models =
    index === -1
      ? [...rows, { ...emptyRow(model), state: modelState }]
      : rows.map((m, i) => (i === index ? { ...m, state: modelState } : m));
  return { ...state, status: { ...state.status, models } };
}

function emptyRow(model: ModelRef): PooledModelStatus {
  return {
    model,
    state: 'unloaded',
    progress: 0,
    memory_bytes: null,
    estimated_bytes: null,
    busy: 0,
    idle_ms: null,
    pid: null,
    load_ms: null,
    loaded_by: null,
    loads: 0,
    crashes: 0,
    circuit_open_until: null,
    last_error: null,
  };
}

/** The pool's lifecycle events (the turn-level `model_selected` and `model_switching` are not). */
export type PoolEventEnvelope = EnvelopeOf<
  'model_loading' | 'model_ready' | 'model_unloaded' | 'model_failed'
>;

const POOL_EVENTS: ReadonlySet<EventEnvelope['type']> = new Set([
  'model_loading',
  'model_ready',
  'model_unloaded',
  'model_failed',
]);

export function isPoolEvent(event: EventEnvelope): event is PoolEventEnvelope {
  return POOL_EVENTS.has(event.type);
}

/**
 * Moves the rows the held status lists by the pool's lifecycle events. Every live session carries the
 * same pool event, so one change may arrive several times: each application sets, never adds, and is
 * idempotent. Models the status does not list are left to the next read.
 */
export function applyPoolEvents(state: ModelsState, events: readonly EventEnvelope[]): ModelsState {
  if (state.status === null) return state;
  let models: PooledModelStatus[] | null = null;
  for (const event of events) {
    if (!isPoolEvent(event)) continue;
    const rows: PooledModelStatus[] = models ?? state.status.models;
    const index = rows.findIndex((m) => sameModel(m.model, event.payload.model));
    const row = rows[index];
    if (row === undefined) continue;
    const next = poolEventRow(row, event);
    if (next === row) continue;
    models = rows === state.status.models ? [...rows] : rows;
    models[index] = next;
  }
  return models === null ? state : { ...state, status: { ...state.status, models } };
}

function poolEventRow(row: PooledModelStatus, event: PoolEventEnvelope): PooledModelStatus {
  switch (event.type) {
    case 'model_loading':
      return {
        ...row,
        state: 'loading',
        // A new load starts at 0; within one load, progress only grows (a repeat must not move it back).
        progress:
          row.state === 'loading' ? Math.max(row.progress, event.payload.progress) : event.payload.progress,
        loaded_by: event.payload.trigger,
        idle_ms: null,
        last_error: null,
      };
    case 'model_ready':
      return {
        ...row,
        state: 'ready',
        progress: 1,
        load_ms: event.payload.load_ms,
        loaded_by: event.payload.trigger,
      };
    case 'model_unloaded':
      return {
        ...row,
        state: event.payload.reason === 'crashed' ? 'failed' : 'unloaded',
        progress: 0,
        memory_bytes: null,
        idle_ms: null,
        pid: null,
      };
    case 'model_failed':
      return {
        ...row,
        state: event.payload.restart_in_ms === null ? 'failed' : 'restarting',
        last_error: event.payload.message,
      };
  }
}

// ---------------------------------------------------------------------------------------------
// Views

/** A model one can choose for an NPC: usable discovered models, the pool's, and those NPCs use now. */
export interface ModelChoice {
  model: ModelRef;
  key: string;
  /** Where it was seen first: discovery, the pool, or an NPC's setting. */
  from: 'discovered' | 'pool' | 'npc';
}

/**
 * Every model an NPC could speak with, each once, in that order: discovery (usable files only), the
 * pool, then models NPC settings name that neither lists (scripted models, say).
 */
export function modelChoices(state: ModelsState, scenarioId: string | null): ModelChoice[] {
  const out: ModelChoice[] = [];
  const seen = new Set<string>();
  const add = (model: ModelRef, from: ModelChoice['from']): void => {
    const key = modelKey(model);
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ model, key, from });
  };
  for (const d of state.discovery?.models ?? []) if (d.error === null) add(d.model, 'discovered');
  for (const m of state.status?.models ?? []) add(m.model, 'pool');
  for (const s of scenarioId === null ? [] : (state.npcSettings[scenarioId] ?? [])) add(s.model, 'npc');
  return out;
}

/** A model that can be loaded now (or again): not loaded and not loading. */
export function canLoad(row: Pick<PooledModelStatus, 'state'>): boolean {
  return row.state === 'unloaded' || row.state === 'failed' || row.state === 'restarting';
}

/** The runtime unloads a ready, failed or restarting model that no turn is using. */
export function canUnload(row: Pick<PooledModelStatus, 'state' | 'busy'>): boolean {
  return (row.state === 'ready' || row.state === 'failed' || row.state === 'restarting') && row.busy === 0;
}
