import type { Clock } from '../core/clock';
import { systemClock } from '../core/clock';
import type { LoadedModel, LoadOptions, ModelBackend } from '../models/backend';
import type { GenerationRequest } from '../models/backend';
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

/**
 * A deliberately scripted backend for load tests and benchmarks: every model replies by
 * `firehoseScript` at token pace 0, without the NPC's token cap (scenarios cap `max_tokens` at 8192),
 * so one turn can stream as many token_delta events as the player line asks for.
 */
export class FirehoseBackend implements ModelBackend {
  readonly kind = 'scripted';
  private readonly inner: ScriptedBackend;

  constructor(clock: Clock = systemClock) {
    this.inner = new ScriptedBackend({ clock, tokenIntervalMs: 0, script: firehoseScript });
  }

  async load(modelId: string, options?: LoadOptions): Promise<LoadedModel> {
    const model = await this.inner.load(modelId, options);
    return {
      info: model.info,
      stream: (request, signal) =>
        model.stream(
          { ...request, sampling: { ...request.sampling, maxTokens: Number.MAX_SAFE_INTEGER } },
          signal,
        ),
      unload: () => model.unload(),
    };
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}
