import type { Clock } from '../core/clock';
import { systemClock } from '../core/clock';
import type { LoadedModel, LoadOptions, ModelBackend } from '../models/backend';
import type { GenerationRequest, TokenChunk } from '../models/backend';
import { SCRIPTED_LINES, ScriptedBackend } from '../models/scripted-backend';

const VOCABULARY = SCRIPTED_LINES.join(' ').split(/\s+/);

/** `tokens:<n>` → n word tokens of inn-keeper prose; anything else → a short line. */
export function firehoseScript(request: GenerationRequest): string {
  const line = request.messages.findLast((m) => m.role === 'user')?.content ?? '';
  const match = /^tokens:(\d+)$/.exec(line);
  const n = match === null ? 8 : Number(match[1]);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(VOCABULARY[i % VOCABULARY.length] ?? 'ale');
  return words.join(' ');
}

export interface FirehoseOptions {
  /**
   * Paces the stream at this many tokens per second, measured from the first token: each token waits
   * for its due time (first + i / rate), so tokens leave in small bursts per timer tick, and a consumer
   * that fell behind gets the overdue ones at once (the mean rate holds). Default: unpaced (pace 0).
   */
  readonly tokensPerSecond?: number;
}

/**
 * A deliberately scripted backend for load tests and benchmarks: every model replies by
 * `firehoseScript`, at token pace 0 or at `tokensPerSecond`, without the NPC's token cap (scenarios
 * cap `max_tokens` at 8192), so one turn can stream as many token_delta events as the player line
 * asks for.
 */
export class FirehoseBackend implements ModelBackend {
  readonly kind = 'scripted';
  private readonly inner: ScriptedBackend;
  private readonly tokensPerSecond: number | undefined;

  constructor(
    private readonly clock: Clock = systemClock,
    options: FirehoseOptions = {},
  ) {
    const rate = options.tokensPerSecond;
    if (rate !== undefined && !(rate > 0 && Number.isFinite(rate)))
      throw new RangeError(`tokensPerSecond must be a positive number, got ${rate}`);
    this.tokensPerSecond = rate;
    this.inner = new ScriptedBackend({ clock, tokenIntervalMs: 0, script: firehoseScript });
  }

  async load(modelId: string, options?: LoadOptions): Promise<LoadedModel> {
    const model = await this.inner.load(modelId, options);
    const rate = this.tokensPerSecond;
    return {
      info: model.info,
      stream: (request, signal) => {
        const chunks = model.stream(
          { ...request, sampling: { ...request.sampling, maxTokens: Number.MAX_SAFE_INTEGER } },
          signal,
        );
        return rate === undefined ? chunks : paced(chunks, rate, this.clock, signal);
      },
      unload: () => model.unload(),
    };
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

async function* paced(
  chunks: AsyncIterable<TokenChunk>,
  tokensPerSecond: number,
  clock: Clock,
  signal: AbortSignal,
): AsyncGenerator<TokenChunk> {
  let start: number | undefined;
  let i = 0;
  for await (const chunk of chunks) {
    start ??= clock.now();
    const wait = start + (i * 1000) / tokensPerSecond - clock.now();
    if (wait >= 1) await clock.sleep(wait, signal);
    i++;
    yield chunk;
  }
}
