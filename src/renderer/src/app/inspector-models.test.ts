import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BridgeError, type AnyBridgeCommand } from '../bridge/types';
import type { FrameScheduler } from '../events/event-batcher';
import { createAppStore, type AppStore } from '../store/app-store';
import { envelopes, MODEL, SCENARIO, sessionSummary } from '../testing/envelopes';
import { FakeBridge } from '../testing/fake-bridge';
import { ManualTimers, settle } from '../testing/fake-socket';
import {
  discovered,
  GGUF_MODEL,
  MIRA_MODEL,
  npcSetting,
  pooled,
  poolStatus,
  WREN_MODEL,
} from '../testing/model-fixtures';
import { createInspector, MODEL_EVENT_REFRESH_MS, MODEL_STATUS_POLL_MS, type Inspector } from './inspector';

let bridge: FakeBridge;
let store: AppStore;
let inspector: Inspector;
let timers: ManualTimers;
let frames: (() => void)[];

function answer(answers: Partial<Record<AnyBridgeCommand['type'], unknown>>): void {
  bridge.respond = (command) => {
    const a = answers[command.type];
    if (a === undefined) throw new Error(`unexpected ${command.type}`);
    return typeof a === 'function' ? (a as (c: AnyBridgeCommand) => unknown)(command) : a;
  };
}

const READS = {
  'models.status': poolStatus(),
  'models.list': { models_dir: '/data/models', models: [discovered(GGUF_MODEL)] },
  'npc.settings.get': { settings: [npcSetting('mira', MIRA_MODEL), npcSetting('wren', WREN_MODEL)] },
};

/** Lets every pending promise callback run (a poll's read and the scheduling of the next one). */
const drain = (): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, 0);
  });

const runFrame = (): void => {
  for (const frame of frames.splice(0)) frame();
};

beforeEach(() => {
  bridge = new FakeBridge();
  store = createAppStore();
  timers = new ManualTimers();
  frames = [];
  const scheduler: FrameScheduler = (run) => {
    frames.push(run);
    return () => {
      frames = frames.filter((f) => f !== run);
    };
  };
  inspector = createInspector({ bridge, store, scheduler, delay: timers.delay });
  store.getState().setScenarios([SCENARIO], 'wayside-inn');
});

afterEach(() => {
  inspector.dispose();
});

describe('inspector: local models', () => {
  it('reads the pool, discovery and the scenario’s NPC settings when the Models view opens', async () => {
    answer(READS);
    store.getState().showSidePanel('models');
    await settle();
    expect(bridge.requests).toEqual([
      { type: 'models.status' },
      { type: 'models.list' },
      { type: 'npc.settings.get', scenario_id: 'wayside-inn' },
    ]);
    const { models } = store.getState();
    expect(models.status).toEqual(poolStatus());
    expect(models.discovery?.models_dir).toBe('/data/models');
    expect(models.npcSettings['wayside-inn']?.map((s) => s.npc_id)).toEqual(['mira', 'wren']);
    expect(models).toMatchObject({
      statusLoading: false,
      discoveryLoading: false,
      npcSettingsLoading: false,
    });
  });

  it('polls the status about once a second while the view is shown, each read after the previous one', async () => {
    answer(READS);
    store.getState().setConnection({ state: 'connected', error: null });
    store.getState().showSidePanel('models');
    await settle();
    expect(timers.waiting).toEqual([MODEL_STATUS_POLL_MS]);
    timers.fireNext();
    await drain();
    expect(bridge.typesSent().slice(3)).toEqual(['models.status']);
    expect(timers.waiting).toEqual([MODEL_STATUS_POLL_MS]);

    // Hidden: polling stops; shown again: it starts again (after a fresh read of everything).
    store.getState().showSidePanel('events');
    expect(timers.waiting).toEqual([]);
    store.getState().showSidePanel('models');
    await settle();
    expect(timers.waiting).toEqual([MODEL_STATUS_POLL_MS]);
    inspector.dispose();
    expect(timers.waiting).toEqual([]);
  });

  it('skips polls while disconnected, and reads everything again on reconnect while shown', async () => {
    answer({
      ...READS,
      'session.list': { sessions: [] },
      'scenario.list': { scenarios: [SCENARIO], default_scenario_id: 'wayside-inn' },
    });
    store.getState().showSidePanel('models');
    await settle();
    const before = bridge.requests.length;
    timers.fireNext();
    await settle();
    expect(bridge.requests).toHaveLength(before);
    bridge.setStatus({ state: 'connected', error: null });
    await settle();
    expect(bridge.typesSent().slice(before).sort()).toEqual([
      'models.list',
      'models.status',
      'npc.settings.get',
      'scenario.list',
      'session.list',
    ]);
  });

  it('moves rows by pool events at once, and reads the status once per burst of model events', async () => {
    answer({ ...READS, 'models.status': poolStatus([pooled(MIRA_MODEL, { state: 'ready', load_ms: 310 })]) });
    await inspector.refreshModelStatus();
    answer({
      ...READS,
      'models.status': poolStatus([pooled(MIRA_MODEL, { state: 'loading', progress: 0.5 })]),
    });
    const s1 = envelopes('s1');
    const s2 = envelopes('s2');

    // Not shown: the rows move, nothing is read.
    bridge.emit(s1('model_unloaded', null, { model: MIRA_MODEL, reason: 'idle_ttl' }));
    runFrame();
    expect(store.getState().models.status?.models[0]?.state).toBe('unloaded');
    expect(timers.waiting).toEqual([]);

    store.getState().showSidePanel('models');
    await settle();
    const reads = bridge.requests.length;
    for (const ev of [s1, s2])
      bridge.emit(ev('model_loading', null, { model: MIRA_MODEL, progress: 0.25, trigger: 'manual' }));
    runFrame();
    bridge.emit(s1('model_loading', null, { model: MIRA_MODEL, progress: 0.5, trigger: 'manual' }));
    runFrame();
    expect(store.getState().models.status?.models[0]).toMatchObject({ state: 'loading', progress: 0.5 });
    expect(timers.waiting.sort((a, b) => a - b)).toEqual([MODEL_EVENT_REFRESH_MS, MODEL_STATUS_POLL_MS]);
    expect(bridge.requests).toHaveLength(reads);
    timers.fireNext(); // the poll (disconnected: skipped)
    timers.fireNext(); // the event refresh
    await settle();
    expect(bridge.typesSent().slice(reads)).toEqual(['models.status']);
  });

  it('prewarms and unloads a model, showing what is on its way, then reads the status', async () => {
    await settle();
    answer({
      ...READS,
      'models.load': { model: WREN_MODEL, state: 'loading' },
      'models.unload': { model: MIRA_MODEL, unloaded: true },
    });
    await inspector.refreshModelStatus();
    const load = inspector.loadModel(WREN_MODEL);
    expect(store.getState().models.pending).toEqual({ 'scripted/wayside-wren': 'load' });
    await load;
    expect(store.getState().models.pending).toEqual({});
    await inspector.unloadModel(MIRA_MODEL);
    await settle();
    expect(bridge.requests).toEqual([
      { type: 'models.status' },
      { type: 'models.load', model: WREN_MODEL },
      { type: 'models.status' },
      { type: 'models.unload', model: MIRA_MODEL },
      { type: 'models.status' },
    ]);
    expect(store.getState().commandError).toBeNull();
  });

  it('puts refused model commands in the command banner, and read failures in the view', async () => {
    answer({
      'models.status': () => {
        throw new BridgeError('internal', 'pool gone');
      },
      'models.unload': () => {
        throw new BridgeError('model_unavailable', 'model wayside-mira is in use by 1 turn(s)');
      },
      'models.config.set': () => {
        throw new BridgeError('invalid_command', 'max_loaded: too big');
      },
      'npc.settings.set': () => {
        throw new BridgeError('unknown_model', "no model backend 'nope' is configured");
      },
    });
    await inspector.unloadModel(MIRA_MODEL);
    expect(store.getState().commandError).toEqual({
      command: 'models.unload',
      code: 'model_unavailable',
      message: 'model wayside-mira is in use by 1 turn(s)',
    });
    await settle();
    expect(store.getState().models.statusError).toBe('internal: pool gone');
    expect(await inspector.setPoolConfig({ max_loaded: 99 })).toBe(false);
    expect(store.getState().commandError?.command).toBe('models.config.set');
    expect(await inspector.setNpcModel('wayside-inn', 'mira', { backend: 'nope', model_id: 'x' })).toBe(
      false,
    );
    expect(store.getState().commandError).toMatchObject({
      command: 'npc.settings.set',
      code: 'unknown_model',
    });
  });

  it('changes pool limits and NPC settings with what the runtime answers', async () => {
    answer({
      ...READS,
      'models.config.set': (c: AnyBridgeCommand) =>
        c.type === 'models.config.set' ? { ...poolStatus().config, ...c.changes } : null,
      'npc.settings.set': (c: AnyBridgeCommand) =>
        c.type === 'npc.settings.set'
          ? npcSetting(c.npc_id, c.model ?? MIRA_MODEL, {
              source: c.model === null ? 'scenario' : 'designer',
              sampling: { temperature: 0.2, top_p: 0.95, max_tokens: 256, seed: 1 },
            })
          : null,
    });
    await inspector.refreshModels();
    expect(await inspector.setPoolConfig({})).toBe(true);
    expect(await inspector.setPoolConfig({ max_loaded: 4, prewarm: false })).toBe(true);
    expect(store.getState().models.status?.config).toMatchObject({ max_loaded: 4, prewarm: false });

    expect(await inspector.setNpcModel('wayside-inn', 'wren', GGUF_MODEL)).toBe(true);
    expect(await inspector.setNpcSampling('wayside-inn', 'mira', { temperature: 0.2 })).toBe(true);
    expect(await inspector.setNpcSettings('wayside-inn', 'wren', { model: null, sampling: null })).toBe(true);
    expect(bridge.requests.filter((r) => r.type === 'npc.settings.set')).toEqual([
      { type: 'npc.settings.set', scenario_id: 'wayside-inn', npc_id: 'wren', model: GGUF_MODEL },
      {
        type: 'npc.settings.set',
        scenario_id: 'wayside-inn',
        npc_id: 'mira',
        sampling: { temperature: 0.2 },
      },
      { type: 'npc.settings.set', scenario_id: 'wayside-inn', npc_id: 'wren', model: null, sampling: null },
    ]);
    expect(store.getState().models.npcSettings['wayside-inn']?.map((s) => [s.npc_id, s.source])).toEqual([
      ['mira', 'designer'],
      ['wren', 'scenario'],
    ]);
    expect(bridge.typesSent().filter((t) => t === 'models.config.set')).toEqual(['models.config.set']);
  });

  it('reads the NPC settings of the selected session’s scenario while the view is shown', async () => {
    answer({ ...READS, 'npc.settings.get': { settings: [] } });
    store.getState().showSidePanel('models');
    await settle();
    store
      .getState()
      .upsertSession(sessionSummary('s9', 1, { scenario_id: 'tidewatch-light', npc_id: 'ines' }));
    store.getState().selectSession('s9');
    await settle();
    expect(bridge.requests.filter((r) => r.type === 'npc.settings.get')).toEqual([
      { type: 'npc.settings.get', scenario_id: 'wayside-inn' },
      { type: 'npc.settings.get', scenario_id: 'tidewatch-light' },
    ]);
  });

  it('sends prewarm hints for the selected session or the NPC picked, and drops failed ones quietly', async () => {
    answer({
      'models.hint': (c: AnyBridgeCommand) => {
        if (c.type === 'models.hint' && c.npc_id === 'wren') throw new BridgeError('internal', 'no');
        return { model: MODEL, prewarming: true };
      },
    });
    await inspector.hint('typing'); // No session: nothing to hint about.
    store.getState().upsertSession(sessionSummary('s1'));
    store.getState().selectSession('s1');
    await inspector.hint('typing');
    await inspector.hint('npc_selected', { scenarioId: 'wayside-inn', npcId: 'wren' });
    expect(bridge.requests).toEqual([
      { type: 'models.hint', hint: 'typing', scenario_id: 'wayside-inn', npc_id: 'mira', session_id: 's1' },
      { type: 'models.hint', hint: 'npc_selected', scenario_id: 'wayside-inn', npc_id: 'wren' },
    ]);
    expect(store.getState().commandError).toBeNull();
  });
});
