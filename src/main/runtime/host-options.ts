import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ModelRef } from '../../shared/common';
import { EMBEDDED_MODEL_ID, embeddedModelPath } from './models/llama/llama-backend';
import type { RuntimeConfig } from './runtime';
import { MIN_TOKEN_LENGTH, newToken } from './transport/credentials';

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
  /** Folder scanned for .gguf files; undefined: `<data dir>/models`. */
  readonly modelsDir: string | undefined;
  /** The model every NPC speaks with by default; null: each scenario's own models. */
  readonly model: ModelRef | null;
  readonly prewarm: boolean;
  readonly maxModels: number;
  readonly modelMemoryMb: number;
  /** An OpenAI-compatible server's base URL (backend `openai`). */
  readonly openaiUrl: string | undefined;
  /** Electron: also open the WebSocket and AG-UI endpoints for local tools (serve always does). */
  readonly listen: boolean;
}

export const HOST_USAGE = `Options:
  --data-dir <dir>          where the ledger lives (default: the platform's app-data folder)
  --host <addr>             interface to bind (default 127.0.0.1; anything else is exposed to the network)
  --port <n>                port (default 7420; 0 picks a free one)
  --token-interval-ms <n>   pace of the scripted model backend (default 40)
  --scenario-dir <dir>      also load every *.scenario.json in <dir> (an invalid file stops startup, named)
  --model <backend:id>      the model NPCs speak with (default llama:${EMBEDDED_MODEL_ID}, the embedded model);
                            'scenario' uses each scenario's own (scripted) models
  --models-dir <dir>        folder of .gguf models to discover (default <data dir>/models)
  --prewarm on|off          predictive model prewarm (default on)
  --max-models <n>          models loaded at once (default 2)
  --model-memory-mb <n>     RAM budget of the loaded models (default 4096)
  --openai-url <url>        an OpenAI-compatible server (Ollama, LM Studio, llama.cpp server, vLLM),
                            e.g. http://127.0.0.1:11434/v1; its models are 'openai:<name>'
  --listen                  desktop app only: also open the WebSocket and AG-UI endpoints on --host/--port
                            for local tools and game clients (npm run serve always does)
  --help
Environment:
  PARLEY_TOKEN              use this launch token instead of a random one (at least 32 characters)
  PARLEY_OPENAI_API_KEY     bearer token for --openai-url`;

function modelOption(raw: string | undefined): ModelRef | null {
  if (raw === 'scenario') return null;
  if (raw === undefined) return { backend: 'llama', model_id: EMBEDDED_MODEL_ID };
  const colon = raw.indexOf(':');
  if (colon <= 0 || colon === raw.length - 1)
    throw new Error(`--model must be <backend>:<model id> or 'scenario', got '${raw}'`);
  return { backend: raw.slice(0, colon), model_id: raw.slice(colon + 1) };
}

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
      model: { type: 'string' },
      'models-dir': { type: 'string' },
      prewarm: { type: 'string' },
      'max-models': { type: 'string' },
      'model-memory-mb': { type: 'string' },
      'openai-url': { type: 'string' },
      listen: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict,
    allowPositionals: !strict,
  });
  if (values.help === true) return 'help';
  const str = (v: string | boolean | undefined): string | undefined =>
    typeof v === 'string' ? v : undefined;
  const envToken = env.PARLEY_TOKEN;
  if (envToken !== undefined && envToken.length < MIN_TOKEN_LENGTH)
    throw new Error(
      `PARLEY_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters (128 random bits, e.g. 32 hex digits)`,
    );
  return {
    dataDir: str(values['data-dir']),
    host: str(values.host) ?? '127.0.0.1',
    port: intOption('port', str(values.port), 7420, 0, 65535),
    token: envToken ?? newToken(),
    tokenFromEnv: envToken !== undefined,
    tokenIntervalMs: intOption('token-interval-ms', str(values['token-interval-ms']), 40, 0, 10_000),
    scenarioDir: str(values['scenario-dir']),
    modelsDir: str(values['models-dir']),
    model: modelOption(str(values.model)),
    prewarm: onOff('prewarm', str(values.prewarm), true),
    maxModels: intOption('max-models', str(values['max-models']), 2, 1, 64),
    modelMemoryMb: intOption('model-memory-mb', str(values['model-memory-mb']), 4096, 16, 1 << 20),
    openaiUrl: str(values['openai-url']),
    listen: values.listen === true,
  };
}

function onOff(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  if (raw === 'on' || raw === 'off') return raw === 'on';
  throw new Error(`--${name} must be 'on' or 'off', got '${raw}'`);
}

/**
 * The runtime's model settings from host options, for both hosts. The embedded model as default is
 * dropped (with the reason returned) when its file is missing, so a checkout without it still runs.
 */
export function modelsConfig(
  options: HostOptions,
  dataDir: string,
  env: NodeJS.ProcessEnv,
): { config: NonNullable<RuntimeConfig['models']>; warning: string | null } {
  let defaultModel = options.model;
  let warning: string | null = null;
  if (
    defaultModel?.backend === 'llama' &&
    defaultModel.model_id === EMBEDDED_MODEL_ID &&
    embeddedModelPath() === undefined
  ) {
    warning = `the embedded model resources/models/${EMBEDDED_MODEL_ID}.gguf is missing; NPCs use their scenarios' models`;
    defaultModel = null;
  }
  const apiKey = env.PARLEY_OPENAI_API_KEY;
  return {
    config: {
      defaultModel,
      modelsDir: options.modelsDir ?? join(dataDir, 'models'),
      pool: {
        prewarm: options.prewarm,
        max_loaded: options.maxModels,
        memory_budget_bytes: options.modelMemoryMb * 1024 * 1024,
      },
      ...(options.openaiUrl === undefined
        ? {}
        : { openai: { baseUrl: options.openaiUrl, ...(apiKey === undefined ? {} : { apiKey }) } }),
    },
    warning,
  };
}

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}
