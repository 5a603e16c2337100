/**
 * Vitest global setup: bundles the llama.cpp worker once, so the tests' worker processes start as
 * plain Node instead of each compiling TypeScript through tsx (about a second per worker).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { WORKER_BUNDLE_ENV } from '../src/main/runtime/models/llama/worker-launcher';

export default async function setup(): Promise<() => void> {
  // Inside node_modules, so the bundle's bare imports (node-llama-cpp) resolve to the project's packages.
  const cache = join(process.cwd(), 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'parley-worker-'));
  const outfile = join(dir, 'llama-worker.mjs');
  await build({
    entryPoints: ['src/main/runtime/models/llama/llama-worker.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  process.env[WORKER_BUNDLE_ENV] = outfile;
  return () => {
    rmSync(dir, { recursive: true, force: true });
  };
}
