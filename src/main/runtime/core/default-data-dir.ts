import envPaths from 'env-paths';

/** The platform's per-user app-data folder for Parley (e.g. ~/.local/share/parley on Linux). */
export function defaultDataDir(): string {
  return envPaths('parley', { suffix: '' }).data;
}
