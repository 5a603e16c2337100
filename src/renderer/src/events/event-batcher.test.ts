import { describe, expect, it } from 'vitest';
import { createEventBatcher, type FrameScheduler } from './event-batcher';

function manualFrames() {
  const queue: { run: () => void; cancelled: boolean }[] = [];
  const schedule: FrameScheduler = (run) => {
    const frame = { run, cancelled: false };
    queue.push(frame);
    return () => {
      frame.cancelled = true;
    };
  };
  const pending = () => queue.filter((f) => !f.cancelled).length;
  const nextFrame = () => {
    const frames = queue.splice(0);
    for (const f of frames) if (!f.cancelled) f.run();
  };
  return { schedule, pending, nextFrame };
}

describe('createEventBatcher', () => {
  it('applies everything pushed before a frame in one batch, in order', () => {
    const frames = manualFrames();
    const batches: number[][] = [];
    const batcher = createEventBatcher<number>((b) => batches.push(b), frames.schedule);
    for (let i = 0; i < 100; i++) batcher.push(i);
    expect(batches).toEqual([]);
    expect(frames.pending()).toBe(1);
    frames.nextFrame();
    batcher.push(100);
    frames.nextFrame();
    frames.nextFrame();
    expect(batches).toEqual([Array.from({ length: 100 }, (_, i) => i), [100]]);
  });

  it('flush applies at once and cancels the pending frame', () => {
    const frames = manualFrames();
    const batches: string[][] = [];
    const batcher = createEventBatcher<string>((b) => batches.push(b), frames.schedule);
    batcher.flush();
    batcher.push('a');
    batcher.flush();
    expect(batches).toEqual([['a']]);
    expect(frames.pending()).toBe(0);
  });

  it('dispose drops the buffer and ignores later pushes', () => {
    const frames = manualFrames();
    const batches: string[][] = [];
    const batcher = createEventBatcher<string>((b) => batches.push(b), frames.schedule);
    batcher.push('a');
    batcher.dispose();
    batcher.push('b');
    frames.nextFrame();
    batcher.flush();
    expect(batches).toEqual([]);
    expect(frames.pending()).toBe(0);
  });
});
