import { describe, expect, it } from 'vitest';
import { envelopes } from '../testing/envelopes';
import {
  discovered,
  GGUF_MODEL,
  MIRA_MODEL,
  npcSetting,
  pooled,
  poolStatus,
  WREN_MODEL,
} from '../testing/model-fixtures';
import {
  applyPoolEvents,
  canLoad,
  canUnload,
  discoveryLoaded,
  EMPTY_MODELS,
  modelActionEnded,
  modelActionStarted,
  modelChoices,
  modelKey,
  modelStateLoaded,
  npcSettingLoaded,
  npcSettingsLoaded,
  npcSettingsRequested,
  poolConfigLoaded,
  statusFailed,
  statusLoaded,
  statusRequested,
  type ModelsState,
} from './models-reducer';

const withStatus = (status = poolStatus()): ModelsState => statusLoaded(EMPTY_MODELS, status);

describe('models state', () => {
  it('loads the pool status, keeps a failed read apart, and clears it with the next answer', () => {
    let state = statusFailed(statusRequested(EMPTY_MODELS), 'not_connected: offline');
    expect(state).toMatchObject({
      status: null,
      statusLoading: false,
      statusError: 'not_connected: offline',
    });
    state = statusLoaded(statusRequested(state), poolStatus());
    expect(state).toMatchObject({ statusLoading: false, statusError: null });
    expect(state.status?.models.map((m) => modelKey(m.model))).toEqual(['scripted/wayside-mira']);
  });

  it('holds NPC settings per scenario and replaces one NPC with the answer of a change', () => {
    const mira = npcSetting('mira', MIRA_MODEL);
    const wren = npcSetting('wren', WREN_MODEL);
    const ines = npcSetting('ines', MIRA_MODEL, { scenario_id: 'tidewatch-light' });
    let state = npcSettingsLoaded(npcSettingsRequested(EMPTY_MODELS), [mira, wren, ines]);
    expect(state.npcSettingsLoading).toBe(false);
    expect(state.npcSettings['wayside-inn']).toEqual([mira, wren]);
    expect(state.npcSettings['tidewatch-light']).toEqual([ines]);
    const chosen = { ...wren, model: GGUF_MODEL, source: 'designer' as const };
    state = npcSettingLoaded(state, chosen);
    expect(state.npcSettings['wayside-inn']).toEqual([mira, chosen]);
    // Reading one scenario again leaves the others as they are.
    state = npcSettingsLoaded(state, [mira]);
    expect(state.npcSettings['wayside-inn']).toEqual([mira]);
    expect(state.npcSettings['tidewatch-light']).toEqual([ines]);
  });

  it('takes the config a change left, the state a load answered, and what is on its way', () => {
    let state = poolConfigLoaded(withStatus(), { ...poolStatus().config, max_loaded: 5 });
    expect(state.status?.config.max_loaded).toBe(5);
    expect(poolConfigLoaded(EMPTY_MODELS, poolStatus().config)).toBe(EMPTY_MODELS);

    state = modelActionStarted(state, WREN_MODEL, 'load');
    expect(state.pending).toEqual({ 'scripted/wayside-wren': 'load' });
    // A model the status does not list yet gets a row in the state the runtime answered.
    state = modelStateLoaded(state, WREN_MODEL, 'loading');
    expect(state.status?.models.map((m) => [modelKey(m.model), m.state])).toEqual([
      ['scripted/wayside-mira', 'ready'],
      ['scripted/wayside-wren', 'loading'],
    ]);
    state = modelStateLoaded(state, MIRA_MODEL, 'unloaded');
    expect(state.status?.models[0]?.state).toBe('unloaded');
    state = modelActionEnded(state, WREN_MODEL);
    expect(state.pending).toEqual({});
    expect(modelActionEnded(state, WREN_MODEL)).toBe(state);
  });

  it('moves held rows by pool events, once however many sessions carry them', () => {
    const held = withStatus(poolStatus([pooled(MIRA_MODEL, { state: 'unloaded', progress: 0 })]));
    const s1 = envelopes('s1');
    const s2 = envelopes('s2');
    const loading = (progress: number) =>
      [s1, s2].map((ev) => ev('model_loading', null, { model: MIRA_MODEL, progress, trigger: 'manual' }));

    let state = applyPoolEvents(held, [...loading(0), ...loading(0.5)]);
    expect(state.status?.models[0]).toMatchObject({ state: 'loading', progress: 0.5, loaded_by: 'manual' });
    // Within one load, progress does not go back.
    expect(applyPoolEvents(state, loading(0.25)).status?.models[0]?.progress).toBe(0.5);

    state = applyPoolEvents(state, [
      s1('model_ready', null, { model: MIRA_MODEL, load_ms: 120, trigger: 'manual' }),
      s2('model_ready', null, { model: MIRA_MODEL, load_ms: 120, trigger: 'manual' }),
    ]);
    expect(state.status?.models[0]).toMatchObject({ state: 'ready', progress: 1, load_ms: 120 });

    state = applyPoolEvents(state, [s1('model_unloaded', null, { model: MIRA_MODEL, reason: 'crashed' })]);
    expect(state.status?.models[0]?.state).toBe('failed');
    state = applyPoolEvents(state, [
      s1('model_failed', null, {
        model: MIRA_MODEL,
        code: 'worker_crashed',
        message: 'gone',
        restart_in_ms: 500,
      }),
    ]);
    expect(state.status?.models[0]).toMatchObject({ state: 'restarting', last_error: 'gone' });
    state = applyPoolEvents(state, [s1('model_unloaded', null, { model: MIRA_MODEL, reason: 'manual' })]);
    expect(state.status?.models[0]).toMatchObject({ state: 'unloaded', progress: 0, pid: null });
  });

  it('leaves state alone for events it does not hold a row for', () => {
    const held = withStatus();
    const ev = envelopes();
    expect(
      applyPoolEvents(held, [
        ev('model_ready', null, { model: WREN_MODEL, load_ms: 1, trigger: 'turn' }),
        ev('model_selected', 't1', { model: MIRA_MODEL, state: 'ready', prewarm: null }),
      ]),
    ).toBe(held);
    expect(
      applyPoolEvents(EMPTY_MODELS, [
        ev('model_ready', null, { model: MIRA_MODEL, load_ms: 1, trigger: 'turn' }),
      ]),
    ).toBe(EMPTY_MODELS);
  });

  it('offers usable discovered models, then the pool’s, then the NPCs’ own, each once', () => {
    let state = withStatus(poolStatus([pooled(MIRA_MODEL), pooled(GGUF_MODEL)]));
    state = discoveryLoaded(state, {
      models_dir: '/models',
      models: [
        discovered(GGUF_MODEL),
        discovered({ backend: 'llama', model_id: 'broken' }, { error: 'not a GGUF file' }),
      ],
    });
    state = npcSettingsLoaded(state, [npcSetting('mira', MIRA_MODEL), npcSetting('wren', WREN_MODEL)]);
    expect(modelChoices(state, 'wayside-inn').map((c) => [c.key, c.from])).toEqual([
      ['llama/tiny-q4', 'discovered'],
      ['scripted/wayside-mira', 'pool'],
      ['scripted/wayside-wren', 'npc'],
    ]);
    expect(modelChoices(EMPTY_MODELS, null)).toEqual([]);
  });

  it('says which rows can be loaded or unloaded', () => {
    expect(canLoad({ state: 'unloaded' })).toBe(true);
    expect(canLoad({ state: 'failed' })).toBe(true);
    expect(canLoad({ state: 'loading' })).toBe(false);
    expect(canLoad({ state: 'ready' })).toBe(false);
    expect(canUnload({ state: 'ready', busy: 0 })).toBe(true);
    expect(canUnload({ state: 'ready', busy: 1 })).toBe(false);
    expect(canUnload({ state: 'restarting', busy: 0 })).toBe(true);
    expect(canUnload({ state: 'unloaded', busy: 0 })).toBe(false);
  });
});
