import { utilityProcess } from 'electron';
import { workerEntry, type WorkerLauncher } from '../runtime/models/llama/worker-launcher';
import type { FromWorker } from '../runtime/models/llama/worker-protocol';

/**
 * Model workers as Electron utility processes: the same worker script and protocol as the Node
 * child-process launcher, so a native crash in llama.cpp ends a utility process, never the app.
 */
export const utilityWorkerLauncher: WorkerLauncher = (label) => {
  const child = utilityProcess.fork(workerEntry().file, [label], {
    serviceName: `Parley model worker (${label})`,
    stdio: 'ignore',
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  return {
    get pid() {
      return child.pid;
    },
    send: (m) => {
      if (!exited) child.postMessage(m);
    },
    onMessage: (listener) => {
      child.on('message', (m: FromWorker) => {
        listener(m);
      });
    },
    onExit: (listener) => {
      child.once('exit', (code: number) => {
        listener({ code, signal: null });
      });
    },
    kill: () => {
      child.kill();
    },
  };
};
