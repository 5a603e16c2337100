import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

export interface HostOptions {
  /** Undefined when not given: each host has its own default. */
  readonly dataDir: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly tokenFromEnv: boolean;
  readonly tokenIntervalMs: number;
  /** Folder of extra *.scenario.json files, loaded next to the built-in ones. */
  readonly scenarioDir: string | undefined;
}

export const HOST_USAGE = `Options:
  --data-dir <dir>          where the ledger lives (default: the platform's app-data folder)
  --host <addr>             interface to bind (default 127.0.0.1; anything else is exposed to the network)
  --port <n>                port (default 7420; 0 picks a free one)
  --token-interval-ms <n>   pace of the scripted model backend (default 40)
  --scenario-dir <dir>      also load every *.scenario.json in <dir> (an invalid file stops startup, named)
  --help
Environment:
  PARLEY_TOKEN              use this launch token instead of a random one (at least 16 characters)`;

function intOption(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${name} must be an integer in ${min}..${max}, got '${raw}'`);
  return n;
}

/**
 * Parses host command-line options; throws an Error with a usage-ready message on bad input.
 * `strict: false` ignores unknown flags (Electron passes its own).
 */
export function parseHostOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  strict = true,
): HostOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'data-dir': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'token-interval-ms': { type: 'string' },
      'scenario-dir': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict,
    allowPositionals: !strict,
  });
  if (values.help === true) return 'help';
  const str = (v: string | boolean | undefined): string | undefined =>
    typeof v === 'string' ? v : undefined;
  const envToken = env.PARLEY_TOKEN;
  if (envToken !== undefined && envToken.length < 16)
    throw new Error('PARLEY_TOKEN must be at least 16 characters (128 random bits recommended)');
  return {
    dataDir: str(values['data-dir']),
    host: str(values.host) ?? '127.0.0.1',
    port: intOption('port', str(values.port), 7420, 0, 65535),
    token: envToken ?? randomBytes(16).toString('hex'),
    tokenFromEnv: envToken !== undefined,
    tokenIntervalMs: intOption('token-interval-ms', str(values['token-interval-ms']), 40, 0, 10_000),
    scenarioDir: str(values['scenario-dir']),
  };
}

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}
