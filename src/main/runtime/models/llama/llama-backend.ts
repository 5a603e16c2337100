import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../core/clock';
import { RuntimeError } from '../../core/errors';
import type {
  GenerationRequest,
  ListedModel,
  LoadedModel,
  LoadOptions,
  ModelBackend,
  ModelDescription,
  TokenChunk,
} from '../backend';
import { chatPromptPieces } from '../chat-format';
import { inspectGguf } from './gguf-inspect';
import { DEFAULT_WATCHDOG, WorkerClient, type GenerateResult, type WatchdogOptions } from './worker-client';
import { nodeWorkerLauncher, type WorkerLauncher } from './worker-launcher';

/** Id of the model that ships with Parley (resources/models/parley-npc.gguf). */
export const EMBEDDED_MODEL_ID = 'parley-npc';

/**
 * Finds the embedded model next to the code: from the repository (source or `out/main`) or, packaged,
 * in Electron's resources folder. Undefined when the file is not there.
 */
export function embeddedModelPath(): string | undefined {
  const candidates: string[] = [];
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    candidates.push(join(dir, 'resources', 'models', `${EMBEDDED_MODEL_ID}.gguf`));
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath;
  if (resourcesPath !== undefined)
    candidates.push(join(resourcesPath, 'models', `${EMBEDDED_MODEL_ID}.gguf`));
  return candidates.find((c) => existsSync(c));
}

/**
 * Model ids to files: `parley-npc` (embedded) and every `.gguf` in the models folder (and its direct
 * subfolders), by its path relative to the folder without the extension: `qwen/qwen2-0_5b-q4`.
 * The folder is re-read on every call, so files dropped in show up without a restart.
 */
export class ModelCatalog {
  constructor(
    readonly modelsDir: string | undefined,
    private readonly embedded: ReadonlyMap<string, string> = new Map(),
  ) {}

  private scan(): Map<string, string> {
    const found = new Map<string, string>();
    const dir = this.modelsDir;
    if (dir !== undefined && existsSync(dir)) {
      const visit = (folder: string, depth: number): void => {
        for (const entry of readdirSync(folder, { withFileTypes: true })) {
          const full = join(folder, entry.name);
          if (entry.isDirectory() && depth < 1) visit(full, depth + 1);
          else if (entry.isFile() && entry.name.toLowerCase().endsWith('.gguf'))
            found.set(relative(dir, full).slice(0, -'.gguf'.length).split(sep).join('/'), full);
        }
      };
      visit(dir, 0);
    }
    for (const [id, path] of this.embedded) found.set(id, path);
    return found;
  }

  list(): { modelId: string; path: string }[] {
    return [...this.scan()].map(([modelId, path]) => ({ modelId, path }));
  }

  resolve(modelId: string): string {
    const path = this.scan().get(modelId);
    if (path === undefined) {
      const known = [...this.scan().keys()];
      throw new RuntimeError(
        'unknown_model',
        `no llama model '${modelId}': ${
          this.modelsDir === undefined
            ? 'no models folder is configured'
            : `not in ${resolve(this.modelsDir)}`
        }${known.length > 0 ? `; known: ${known.join(', ')}` : ''}`,
        { model_id: modelId, known },
      );
    }
    return path;
  }
}

/**
 * Threads for a model on this machine. Small models are bound by synchronisation, not arithmetic:
 * on 2 cores a model of a few million parameters runs far faster on 1 thread.
 */
export function threadsFor(parameters: number, cores = availableParallelism()): number {
  if (parameters < 100_000_000) return 1;
  return Math.max(1, Math.min(cores, 8));
}

/**
 * A per-file memo keyed by path, size and mtime: a replaced file is read again. Failures are not
 * kept, so a file fixed in place is retried.
 */
function fileMemo<T>(compute: (path: string) => Promise<T>): (path: string) => Promise<T> {
  const memo = new Map<string, Promise<T>>();
  return (path) => {
    const s = statSync(path, { throwIfNoEntry: false });
    if (s === undefined) return compute(path); // let compute report the missing file its own way
    const key = `${path}\u0000${s.size}\u0000${s.mtimeMs}`;
    let value = memo.get(key);
    if (value === undefined) {
      value = compute(path);
      memo.set(key, value);
      value.catch(() => memo.delete(key));
    }
    return value;
  };
}

/** SHA-256 of a model file (large files take seconds to hash, so once per file version). */
const fileHash = fileMemo(
  (path) =>
    new Promise<string>((done, fail) => {
      const hash = createHash('sha256');
      createReadStream(path)
        .on('data', (chunk) => hash.update(chunk))
        .on('error', fail)
        .on('end', () => {
          done(hash.digest('hex'));
        });
    }),
);

export interface LlamaBackendOptions {
  readonly clock: Clock;
  readonly catalog: ModelCatalog;
  readonly launcher?: WorkerLauncher;
  /** Largest context to create, tokens; a model's own training context caps it. Default 2048. */
  readonly contextSize?: number;
  /** Overrides `threadsFor`. */
  readonly threads?: number;
  readonly watchdog?: Partial<WatchdogOptions>;
}

/** Observed when a generation ends: how the worker saw it. For benches and the latency waterfall. */
export type GenerationObserver = (result: GenerateResult) => void;

/** A loaded llama model: the worker that holds it. */
export class LlamaLoadedModel implements LoadedModel {
  constructor(
    readonly info: LoadedModel['info'],
    readonly memoryBytes: number,
    private readonly client: WorkerClient,
    private readonly observer: GenerationObserver,
    private readonly onUnload: () => void,
  ) {}

  get pid(): number | undefined {
    return this.client.pid;
  }

  get died(): Promise<Error> {
    return this.client.died;
  }

  /** The worker, for tests (crash and hang injection). */
  get worker(): WorkerClient {
    return this.client;
  }

  async *stream(request: GenerationRequest, signal: AbortSignal): AsyncGenerator<TokenChunk> {
    const s = request.sampling;
    const chunks = this.client.generate(
      {
        prompt: chatPromptPieces(request.messages),
        maxTokens: s.maxTokens,
        temperature: s.temperature,
        topP: s.topP,
        seed: s.seed,
      },
      signal,
      this.observer,
    );
    for await (const text of chunks) yield { text };
  }

  unload(): Promise<void> {
    this.onUnload();
    return this.client.shutdown();
  }
}

/** The llama model behind a lease, for tests and benches that need its worker; throws for others. */
export function asLlama(model: LoadedModel): LlamaLoadedModel {
  if (!(model instanceof LlamaLoadedModel)) throw new Error(`not a llama model: ${model.info.ref.backend}`);
  return model;
}

/**
 * The llama.cpp backend: each loaded model lives in its own worker process (worker-launcher.ts), so
 * a native crash kills a worker, never the runtime. Files are validated before any worker sees them.
 */
export class LlamaBackend implements ModelBackend {
  readonly kind = 'llama';
  private readonly launcher: WorkerLauncher;
  private readonly contextSize: number;
  private readonly watchdog: WatchdogOptions;
  private readonly live = new Set<WorkerClient>();
  /** Validation and description, once per file version (the pool describes before it loads). */
  private readonly inspect: (path: string) => Promise<ModelDescription>;
  observer: GenerationObserver | undefined;

  constructor(private readonly options: LlamaBackendOptions) {
    this.launcher = options.launcher ?? nodeWorkerLauncher();
    this.contextSize = options.contextSize ?? 2048;
    this.watchdog = { ...DEFAULT_WATCHDOG, ...options.watchdog };
    const contextSize = this.contextSize;
    this.inspect = fileMemo((path) => inspectGguf(path, contextSize));
  }

  describe(modelId: string): Promise<ModelDescription> {
    return this.inspect(this.options.catalog.resolve(modelId));
  }

  async list(): Promise<ListedModel[]> {
    return Promise.all(
      this.options.catalog.list().map(async ({ modelId, path }) => {
        try {
          return { modelId, path, description: await this.inspect(path), error: null };
        } catch (err) {
          return { modelId, path, description: null, error: (err as Error).message };
        }
      }),
    );
  }

  async load(modelId: string, options: LoadOptions = {}): Promise<LlamaLoadedModel> {
    const path = this.options.catalog.resolve(modelId);
    const description = await this.inspect(path);
    options.onProgress?.(0.05);
    const threads = this.options.threads ?? threadsFor(description.parameters);
    const client = new WorkerClient(this.launcher(modelId), this.options.clock, this.watchdog, modelId);
    this.live.add(client);
    void client.died.then(() => this.live.delete(client));
    try {
      const [facts, contentHash] = await Promise.all([
        client.load(
          path,
          Math.min(this.contextSize, description.contextLength),
          threads,
          (p) => options.onProgress?.(0.05 + p * 0.95),
          options.signal,
        ),
        fileHash(path),
      ]);
      options.onProgress?.(1);
      const info = {
        ref: { backend: this.kind, model_id: modelId },
        contentHash,
        contextLength: facts.contextSize,
      };
      return new LlamaLoadedModel(
        info,
        facts.memoryBytes,
        client,
        (r) => this.observer?.(r),
        () => this.live.delete(client),
      );
    } catch (err) {
      this.live.delete(client);
      await client.shutdown(500);
      throw err;
    }
  }

  async dispose(): Promise<void> {
    await Promise.allSettled([...this.live].map((c) => c.shutdown(1_000)));
    this.live.clear();
  }
}
