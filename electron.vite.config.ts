import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

export default defineConfig({
  main: {
    build: {
      rolldownOptions: {
        input: {
          // Electron host (runtime + shell).
          index: resolve(import.meta.dirname, 'src/main/index.ts'),
          // Headless host (runtime only, plain Node): `npm run serve`.
          serve: resolve(import.meta.dirname, 'src/main/serve.ts'),
          // One process per loaded model (child process or utilityProcess): `llama-worker.js`.
          'llama-worker': resolve(import.meta.dirname, 'src/main/runtime/models/llama/llama-worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      rolldownOptions: {
        // Sandboxed preloads must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(import.meta.dirname, 'src/renderer'),
    build: {
      rolldownOptions: {
        input: resolve(import.meta.dirname, 'src/renderer/index.html'),
      },
    },
    plugins: [react()],
  },
});
