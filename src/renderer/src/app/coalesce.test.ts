import { describe, expect, it } from 'vitest';
import { settle } from '../testing/fake-socket';
import { coalesce } from './coalesce';

function deferredTask() {
  const calls: string[] = [];
  const release: (() => void)[] = [];
  const task = (key: string) =>
    new Promise<void>((resolve) => {
      calls.push(key);
      release.push(resolve);
    });
  return { task, calls, releaseNext: () => release.shift()?.() };
}

describe('coalesce', () => {
  it('runs at once when idle, and queues one more run for any number of calls meanwhile', async () => {
    const { task, calls, releaseNext } = deferredTask();
    const run = coalesce(task);
    const first = run('a');
    const second = run('a');
    const third = run('a');
    expect(second).toBe(third);
    expect(calls).toEqual(['a']);
    releaseNext();
    await first;
    await settle();
    expect(calls).toEqual(['a', 'a']);
    releaseNext();
    await second;
    void run('a');
    expect(calls).toEqual(['a', 'a', 'a']);
  });

  it('keeps keys independent and survives a failing task', async () => {
    let fail = true;
    const calls: string[] = [];
    const run = coalesce((key) => {
      calls.push(key);
      if (fail) {
        fail = false;
        return Promise.reject(new Error('boom'));
      }
      return Promise.resolve();
    });
    await Promise.all([run('a'), run('b')]);
    await run('a');
    expect(calls).toEqual(['a', 'b', 'a']);
  });
});
