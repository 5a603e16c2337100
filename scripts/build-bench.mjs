// Bundles bench/run.ts the way the app is shipped (one ESM bundle, dependencies external), so the
// benchmark measures production code rather than a development transpiler's output.
import { build } from 'esbuild';

await build({
  entryPoints: ['bench/run.ts'],
  outfile: 'out/bench/run.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: false,
  logLevel: 'warning',
});

// The model worker the bench's runtimes start, next to the bench bundle (worker-launcher.ts looks there).
await build({
  entryPoints: ['src/main/runtime/models/llama/llama-worker.ts'],
  outfile: 'out/bench/llama-worker.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: false,
  logLevel: 'warning',
});
