/**
 * Evaluates the exported GGUF with llama.cpp (node-llama-cpp), the engine Parley runs it with
 * (run: `npx tsx training/evaluate.ts`). Writes training/out/eval-report.json and prints a summary.
 *
 * 1. Tokenizer: llama.cpp's tokenization of every held-out prompt equals the corpus tokenizer's.
 * 2. Equivalence: for the prompts in reference.json, llama.cpp's first-token probabilities and its
 *    greedy continuation match PyTorch's (weights rounded to F16, as exported).
 * 3. Behaviour: held-out prompts (other worlds and line combinations than the training corpus) and
 *    a few hand-written lines the corpus never had, sampled as the runtime samples: does the reply
 *    end with `<|end|>`, do its ACTION lines parse, would it commit, are its actions the expected
 *    ones; and generation speed on one thread.
 *
 * Repeat penalty is off: with one token per character, penalising recent tokens penalises spelling.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getLlama, LlamaCompletion, LlamaLogLevel, type Token } from 'node-llama-cpp';
import { z } from 'zod';
import { formatChatPrompt } from '../src/main/runtime/models/chat-format';
import { initialWorldState } from '../src/shared/scenario';
import { parseModelOutput } from '../src/shared/proposals';
import { WorldState } from '../src/shared/world';
import { commitFailure, SCENARIO, turnMessages, type NpcId } from './dialogue';

const HERE = dirname(fileURLToPath(import.meta.url));
const DEFAULT_MODEL_PATH = join(HERE, '..', 'resources', 'models', 'parley-npc.gguf');

const Heldout = z.object({
  prompts: z.array(
    z.object({
      id: z.string(),
      npc: z.enum(['mira', 'wren']),
      intent: z.string(),
      world: WorldState,
      player: z.string(),
      expected_reply: z.string(),
      prompt_tokens: z.array(z.number().int()),
    }),
  ),
});

const Reference = z.object({
  cases: z.array(
    z.object({
      id: z.string(),
      prompt_tokens: z.array(z.number().int()),
      greedy_tokens: z.array(z.number().int()),
      first_probs_top5: z.array(z.tuple([z.number().int(), z.number()])),
    }),
  ),
});

/** Lines no corpus template produces, in the world a fresh session starts in. */
const NOVEL: readonly { npc: NpcId; player: string }[] = [
  { npc: 'mira', player: 'Good evening! Could I trouble you for a bed tonight?' },
  { npc: 'mira', player: "I'm starving. What's cooking?" },
  { npc: 'mira', player: 'Two bowls of stew and a room, if you please.' },
  { npc: 'mira', player: 'Do you know a way over the river?' },
  { npc: 'wren', player: 'That grey looks like she is limping. What happened?' },
  { npc: 'wren', player: 'Could my horse have a bit of feed?' },
];

interface Case {
  readonly id: string;
  readonly npc: NpcId;
  readonly world: WorldState;
  readonly player: string;
  readonly expected?: string;
}

/** Actions as canonical strings, to compare a reply's actions with the expected ones. */
function actionKeys(reply: string): string[] {
  return parseModelOutput(reply).proposals.map((a) => JSON.stringify(a, Object.keys(a).sort()));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: DEFAULT_MODEL_PATH },
      in: { type: 'string', default: join(HERE, 'out') },
      heldout: { type: 'string', default: '14' },
      'max-tokens': { type: 'string', default: '200' },
      threads: { type: 'string', default: '1' },
      /** Overrides the NPCs' temperature (0: greedy). */
      temperature: { type: 'string' },
    },
  });
  const maxTokens = Number(values['max-tokens']);
  const heldout = Heldout.parse(JSON.parse(readFileSync(join(values.in, 'heldout.json'), 'utf8')));
  const reference = Reference.parse(JSON.parse(readFileSync(join(values.in, 'reference.json'), 'utf8')));

  const llama = await getLlama({
    build: 'never',
    gpu: false,
    skipDownload: true,
    logLevel: LlamaLogLevel.warn,
  });
  const model = await llama.loadModel({ modelPath: values.model });
  const context = await model.createContext({
    contextSize: model.trainContextSize,
    threads: Number(values.threads),
  });
  const sequence = context.getSequence();
  const completion = new LlamaCompletion({ contextSequence: sequence });
  const endToken = model.tokens.eos;

  // 1. Tokenizer agreement.
  let tokenizerMismatches = 0;
  let longestPrompt = 0;
  for (const p of heldout.prompts) {
    const text = formatChatPrompt(turnMessages(p.npc, p.world, p.player));
    const ids = model.tokenize(text, true);
    longestPrompt = Math.max(longestPrompt, ids.length);
    if (ids.length !== p.prompt_tokens.length || ids.some((t, i) => t !== p.prompt_tokens[i]))
      tokenizerMismatches++;
  }

  // 2. PyTorch equivalence.
  const equivalence = [];
  for (const ref of reference.cases) {
    await sequence.clearHistory();
    let firstProbs: Map<Token, number> | undefined;
    for await (const out of sequence.evaluateWithMetadata(
      ref.prompt_tokens as Token[],
      { probabilities: true },
      {
        temperature: 0,
      },
    )) {
      firstProbs = out.probabilities;
      break;
    }
    const maxProbDiff = Math.max(
      ...ref.first_probs_top5.map(([id, p]) => Math.abs((firstProbs?.get(id as Token) ?? 0) - p)),
    );
    await sequence.clearHistory();
    const got: number[] = [];
    const meta = await completion.generateCompletionWithMeta(ref.prompt_tokens as Token[], {
      temperature: 0,
      maxTokens: ref.greedy_tokens.length,
      repeatPenalty: false,
      onToken: (tokens) => got.push(...tokens),
    });
    if (meta.metadata.stopReason === 'eogToken') got.push(endToken ?? -1);
    let same = 0;
    while (same < ref.greedy_tokens.length && got[same] === ref.greedy_tokens[same]) same++;
    equivalence.push({
      id: ref.id,
      torch_tokens: ref.greedy_tokens.length,
      matching_prefix: same,
      first_top5_max_abs_prob_diff: Number(maxProbDiff.toFixed(5)),
      llama_cpp_text: model.detokenize(got as Token[], true),
      torch_text: model.detokenize(ref.greedy_tokens as Token[], true),
    });
  }

  // 3. Behaviour under the runtime's sampling (wayside-inn NPCs: temperature 0.7, top_p 0.95).
  const fresh = initialWorldState(SCENARIO);
  const cases: Case[] = [
    ...heldout.prompts.slice(0, Number(values.heldout)).map((p) => ({
      id: `${p.id} ${p.npc}.${p.intent}`,
      npc: p.npc,
      world: p.world,
      player: p.player,
      expected: p.expected_reply,
    })),
    ...NOVEL.map((n, i) => ({ id: `novel-${i} ${n.npc}`, npc: n.npc, world: fresh, player: n.player })),
  ];
  const results = [];
  let generated = 0;
  let generationMs = 0;
  let promptMs = 0;
  let promptTokens = 0;
  for (const [i, c] of cases.entries()) {
    const sampling = SCENARIO.npcs[c.npc]?.sampling;
    const prompt = model.tokenize(formatChatPrompt(turnMessages(c.npc, c.world, c.player)), true);
    await sequence.clearHistory();
    const started = performance.now();
    let first = 0;
    let count = 0;
    const meta = await completion.generateCompletionWithMeta(prompt, {
      maxTokens,
      temperature:
        values.temperature === undefined ? (sampling?.temperature ?? 0.7) : Number(values.temperature),
      topP: sampling?.top_p ?? 0.95,
      seed: (sampling?.seed ?? 1) + i,
      repeatPenalty: false,
      onToken: (tokens) => {
        if (count === 0) first = performance.now();
        count += tokens.length;
      },
    });
    const ended = performance.now();
    if (count > 0) {
      promptMs += first - started;
      promptTokens += prompt.length;
      generationMs += ended - first;
      generated += count - 1;
    }
    const reply = meta.response;
    const parsed = parseModelOutput(reply);
    const failure = await commitFailure(c.npc, c.world, reply);
    const expectedKeys = c.expected === undefined ? undefined : actionKeys(c.expected);
    results.push({
      id: c.id,
      player: c.player,
      reply,
      prompt_tokens: prompt.length,
      reply_tokens: count,
      ended_with_end_token: meta.metadata.stopReason === 'eogToken',
      action_lines: parsed.proposals.length + parsed.errors.length,
      actions_well_formed: parsed.errors.length === 0,
      commits: failure === null,
      commit_failure: failure,
      expected: c.expected ?? null,
      expected_actions_match:
        expectedKeys === undefined
          ? null
          : JSON.stringify(actionKeys(reply)) === JSON.stringify(expectedKeys),
    });
  }

  const frac = (xs: readonly boolean[]): number => Number((xs.filter(Boolean).length / xs.length).toFixed(3));
  const withActions = results.filter((r) => r.action_lines > 0);
  const scored = results.filter((r) => r.expected_actions_match !== null);
  const summary = {
    model: values.model,
    context_size: context.contextSize,
    threads: Number(values.threads),
    tokenizer_mismatches: tokenizerMismatches,
    longest_heldout_prompt_tokens: longestPrompt,
    fresh_world_prompt_tokens: Object.fromEntries(
      (['mira', 'wren'] as const).map((npc) => [
        npc,
        model.tokenize(formatChatPrompt(turnMessages(npc, fresh, 'Good evening! Could I have a room?')), true)
          .length,
      ]),
    ),
    // Every prompt seen plus a full reply at the NPCs' max_tokens (256) must fit the context.
    fits_context:
      Math.max(longestPrompt, ...results.map((r) => r.prompt_tokens)) + 256 <= context.contextSize,
    equivalence,
    cases: results.length,
    ended_with_end_token: frac(results.map((r) => r.ended_with_end_token)),
    replies_with_action_lines: withActions.length,
    action_lines_well_formed: frac(withActions.map((r) => r.actions_well_formed)),
    replies_well_formed: frac(results.map((r) => r.actions_well_formed)),
    replies_commit: frac(results.map((r) => r.commits)),
    expected_actions_match: frac(scored.map((r) => r.expected_actions_match === true)),
    prompt_tokens_per_s: Math.round(promptTokens / (promptMs / 1000)),
    generation_tokens_per_s: Math.round(generated / (generationMs / 1000)),
  };
  writeFileSync(join(values.in, 'eval-report.json'), JSON.stringify({ ...summary, results }, null, 1));
  const { equivalence: eq, ...rest } = summary;
  console.log(JSON.stringify(rest, null, 1));
  for (const e of eq)
    console.log(
      `${e.id}: greedy ${e.matching_prefix}/${e.torch_tokens} tokens match, first-token top-5 max |Δp| ${e.first_top5_max_abs_prob_diff}`,
    );
  for (const r of results)
    console.log(`--- ${r.id}${r.commits ? '' : ' [would not commit]'}\nPLAYER: ${r.player}\n${r.reply}`);
  await context.dispose();
  await model.dispose();
  await llama.dispose();
}

await main();
