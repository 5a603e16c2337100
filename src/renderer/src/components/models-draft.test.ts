import { describe, expect, it } from 'vitest';
import { GGUF_MODEL, MIRA_MODEL, npcSetting, POOL_CONFIG } from '../testing/model-fixtures';
import {
  modelFromKey,
  npcDraftChange,
  npcFieldValue,
  poolDraftChanges,
  poolFieldValue,
} from './models-draft';
import { describeModelState, formatBytes, formatDuration, formatParams, formatRate } from './models-format';

describe('pool limits form', () => {
  it('shows the config in MiB and seconds, the draft where edited', () => {
    expect(poolFieldValue(POOL_CONFIG, {}, 'memory_budget_mib')).toBe('4096');
    expect(poolFieldValue(POOL_CONFIG, {}, 'idle_ttl_s')).toBe('600');
    expect(poolFieldValue(POOL_CONFIG, {}, 'prewarm')).toBe(true);
    expect(poolFieldValue(POOL_CONFIG, { max_loaded: '3' }, 'max_loaded')).toBe('3');
  });

  it('sends only what changed, in bytes and ms; entries that are not numbers are errors', () => {
    expect(
      poolDraftChanges(POOL_CONFIG, {
        max_loaded: '2',
        memory_budget_mib: '1024',
        idle_ttl_s: '1.5',
        prewarm: false,
      }),
    ).toEqual({
      changes: { memory_budget_bytes: 1024 ** 3, idle_ttl_ms: 1_500, prewarm: false },
      errors: [],
    });
    const bad = poolDraftChanges(POOL_CONFIG, { max_loaded: 'lots', idle_ttl_s: ' ' });
    expect(bad.changes).toEqual({});
    expect(bad.errors).toHaveLength(2);
    // Out of range is the runtime's to say.
    expect(poolDraftChanges(POOL_CONFIG, { max_loaded: '0' }).changes).toEqual({ max_loaded: 0 });
  });
});

describe('NPC settings form', () => {
  const setting = npcSetting('mira', MIRA_MODEL);

  it('reads model keys back, slashes in model ids included', () => {
    expect(modelFromKey('openai/org/model-7b')).toEqual({ backend: 'openai', model_id: 'org/model-7b' });
    expect(modelFromKey('scripted')).toBeNull();
    expect(modelFromKey('/x')).toBeNull();
    expect(modelFromKey('x/')).toBeNull();
  });

  it('changes the model and the sampling fields that differ, counting them', () => {
    expect(npcFieldValue(setting, {}, 'model')).toBe('scripted/wayside-mira');
    expect(npcFieldValue(setting, {}, 'top_p')).toBe('0.95');
    expect(npcDraftChange(setting, { model: 'scripted/wayside-mira', seed: '1' })).toEqual({
      change: {},
      count: 0,
      errors: [],
    });
    expect(npcDraftChange(setting, { model: 'llama/tiny-q4', temperature: '0.2', seed: '7' })).toEqual({
      change: { model: GGUF_MODEL, sampling: { temperature: 0.2, seed: 7 } },
      count: 3,
      errors: [],
    });
    expect(npcDraftChange(setting, { max_tokens: 'many' }).errors).toEqual([
      'max_tokens: “many” is not a number',
    ]);
  });
});

describe('model formatting', () => {
  it('writes sizes, parameter counts, durations and rates the way model cards do', () => {
    expect(formatBytes(null)).toBe('—');
    expect(formatBytes(512 * 1024)).toBe('512 KiB');
    expect(formatBytes(668 * 1024 ** 2)).toBe('668 MiB');
    expect(formatBytes(4 * 1024 ** 3)).toBe('4.00 GiB');
    expect(formatParams(1.1e9)).toBe('1.1B');
    expect(formatParams(124e6)).toBe('124M');
    expect(formatParams(7e9)).toBe('7B');
    expect(formatParams(null)).toBe('—');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_400)).toBe('12.4 s');
    expect(formatDuration(185_000)).toBe('3 min 05 s');
    expect(formatDuration(7_800_000)).toBe('2 h 10 min');
    expect(formatRate(42.44)).toBe('42.4 tok/s');
    expect(formatRate(250)).toBe('250 tok/s');
  });

  it('says a model’s state with its load progress and the turns using it', () => {
    expect(describeModelState({ state: 'loading', progress: 0.25, busy: 0 })).toBe('loading 25%');
    expect(describeModelState({ state: 'ready', progress: 1, busy: 2 })).toBe('ready · 2 turns');
    expect(describeModelState({ state: 'restarting', progress: 0, busy: 0 })).toBe('restarting');
  });
});
