/**
 * Per-key request coalescing for refetches. A call while the key's task runs queues exactly one more
 * run after it (the state may have changed since the running one asked); further calls share that
 * queued run. So a burst of commits costs at most two fetches per session, and the last answer is
 * never older than the last call.
 */
export function coalesce(task: (key: string) => Promise<void>): (key: string) => Promise<void> {
  const running = new Map<string, Promise<void>>();
  const queued = new Map<string, Promise<void>>();

  const start = (key: string): Promise<void> => {
    const run: Promise<void> = task(key)
      .catch(() => undefined)
      .finally(() => {
        if (running.get(key) === run) running.delete(key);
      });
    running.set(key, run);
    return run;
  };

  return (key) => {
    const next = queued.get(key);
    if (next !== undefined) return next;
    const current = running.get(key);
    if (current === undefined) return start(key);
    const after = current.then(() => {
      queued.delete(key);
      return start(key);
    });
    queued.set(key, after);
    return after;
  };
}
