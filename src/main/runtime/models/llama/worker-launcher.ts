import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FromWorker, ToWorker } from './worker-protocol';

export interface WorkerExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/**
 * One worker process, however it was started: a Node child process (headless, tests) or an Electron
 * utilityProcess (the shell supplies that launcher). The runtime only ever sees this interface.
 */
export interface WorkerHandle {
  readonly pid: number | undefined;
  send(message: ToWorker): void;
  onMessage(listener: (message: FromWorker) => void): void;
  /** Called once when the process has exited, for whatever reason. */
  onExit(listener: (exit: WorkerExit) => void): void;
  /** Ends the process at once (SIGKILL). */
  kill(): void;
}

export type WorkerLauncher = (label: string) => WorkerHandle;

/** Environment variable naming a prebuilt worker bundle to run instead of the default entry. */
export const WORKER_BUNDLE_ENV = 'PARLEY_LLAMA_WORKER';

/**
 * Where the worker's entry point is. Built (electron-vite bundles it as `llama-worker.js` next to the
 * host's own bundle) or from source (the `.ts` file, run through tsx: tests and `tsx` scripts).
 */
export function workerEntry(): { file: string; execArgv: string[] } {
  // A prebuilt bundle named by the environment (the test suite builds one once: no tsx per worker).
  const prebuilt = process.env[WORKER_BUNDLE_ENV];
  if (prebuilt !== undefined && prebuilt !== '') return { file: prebuilt, execArgv: [] };
  const here = import.meta.url;
  if (here.endsWith('.ts'))
    return { file: fileURLToPath(new URL('./llama-worker.ts', here)), execArgv: ['--import', 'tsx'] };
  // The bundler may put this code in a shared chunk one folder below the entry points.
  const candidates = ['./llama-worker.js', '../llama-worker.js'].map((p) => fileURLToPath(new URL(p, here)));
  const built = candidates.find((c) => existsSync(c));
  if (built === undefined)
    throw new Error(
      `the llama worker bundle is missing (looked for ${candidates.join(', ')}); run the build`,
    );
  return { file: built, execArgv: [] };
}

/** Launches workers as Node child processes with an IPC channel. */
export function nodeWorkerLauncher(options: { readonly env?: NodeJS.ProcessEnv } = {}): WorkerLauncher {
  return (label) => {
    const entry = workerEntry();
    const child = fork(entry.file, [label], {
      execArgv: entry.execArgv,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    // llama.cpp's own stderr lines: kept short, surfaced only through the error that follows them.
    child.stderr?.resume();
    return {
      pid: child.pid,
      send: (m) => {
        if (child.connected) child.send(m);
      },
      onMessage: (listener) => {
        child.on('message', (m) => {
          listener(m as FromWorker);
        });
      },
      onExit: (listener) => {
        child.once('exit', (code, signal) => {
          listener({ code, signal });
        });
      },
      kill: () => {
        child.kill('SIGKILL');
      },
    };
  };
}
