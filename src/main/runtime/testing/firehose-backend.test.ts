import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock';
import { DEFAULT_SAMPLING } from '../models/backend';
import { FirehoseBackend, firehoseScript } from './firehose-backend';

const request = (line: string) => ({
  messages: [{ role: 'user' as const, content: line }],
  sampling: DEFAULT_SAMPLING,
});

describe('FirehoseBackend', () => {
  it('streams as many tokens as the line asks for, past the sampling cap', async () => {
    const model = await new FirehoseBackend().load('any');
    let n = 0;
    for await (const _ of model.stream(request('tokens:300'), new AbortController().signal)) n++;
    expect(n).toBe(300);
    expect(firehoseScript(request('tokens:3')).split(' ')).toHaveLength(3);
  });

  it('paces tokens at tokensPerSecond from the first one', async () => {
    const clock = new ManualClock(1_000);
    const model = await new FirehoseBackend(clock, { tokensPerSecond: 1_000 }).load('any');
    const at: number[] = [];
    const done = (async () => {
      for await (const _ of model.stream(request('tokens:50'), new AbortController().signal))
        at.push(clock.now());
    })();
    for (let i = 0; i < 60 && at.length < 50; i++) await clock.advance(1);
    await done;
    expect(at).toHaveLength(50);
    // Token i is due i ms after the first: 1 per ms at 1,000/s.
    expect(at[0]).toBe(1_000);
    expect(at[49]).toBe(1_049);
  });

  it('refuses a rate that is not a positive number', () => {
    expect(() => new FirehoseBackend(undefined, { tokensPerSecond: 0 })).toThrow(RangeError);
  });
});
