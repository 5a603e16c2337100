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
