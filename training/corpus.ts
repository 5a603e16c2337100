/**
 * Writes the training corpus of the embedded NPC model (run: `npx tsx training/corpus.ts`).
 *
 * Every example is one turn exactly as the runtime would prompt it: `buildPrompt` (the real system
 * and user messages) formatted by `formatChat`, with the reply and `<|end|>` after the assistant
 * marker. Every reply is checked twice before it is written: `parseModelOutput` must read it with no
 * errors, and the runtime's commit decision (`prepareCommit`: extensions, then every governance rule)
 * must accept its actions in that world.
 *
 * Out (training/out/):
 *   tokens.bin   uint16 LE token ids, examples back to back (encode(..., { special: true }))
 *   mask.bin     uint8 per token: 1 where the loss applies (reply and its `<|end|>`), 0 on the prompt
 *   index.json   groups of examples sharing a prompt prefix (system turn + `<|user|>\n`), splits, hash
 *   vocab.json   the character vocabulary (chars, token texts, control ids)
 *   heldout.json prompts from a different seed, for train.py's reference and evaluate.ts
 *   corpus.txt   a human-readable sample and the corpus statistics
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ChatMessage } from '../src/main/runtime/models/backend';
import {
  CHAT_TOKENS,
  CONTROL_TOKENS,
  formatChat,
  formatChatPrompt,
} from '../src/main/runtime/models/chat-format';
import { createCharVocab, encode, type CharVocab } from '../src/main/runtime/models/gguf/llama-model';
import {
  commitFailure,
  generateGroups,
  replyText,
  turnMessages,
  type DialogueGroup,
  type Turn,
} from './dialogue';

export const OUT_DIR = join(dirname(fileURLToPath(import.meta.url)), 'out');

/** The text every example of a group starts with: the system turn and the user marker. */
function sharedPrefix(messages: readonly ChatMessage[]): string {
  const system = messages[0];
  if (system?.role !== 'system') throw new Error('buildPrompt no longer starts with a system message');
  return `${CHAT_TOKENS.system}\n${system.content}${CHAT_TOKENS.end}\n${CHAT_TOKENS.user}\n`;
}

interface Example {
  readonly start: number;
  readonly length: number;
  readonly prompt_length: number;
  readonly intent: string;
}

function charsOf(texts: Iterable<string>): Set<string> {
  const chars = new Set<string>();
  for (const text of texts) {
    let plain = text;
    for (const marker of CONTROL_TOKENS) plain = plain.replaceAll(marker, '');
    for (const ch of plain) chars.add(ch);
  }
  return chars;
}

function vocabJson(vocab: CharVocab, chars: readonly string[]): unknown {
  return {
    size: vocab.tokens.length,
    chars,
    tokens: vocab.tokens,
    eos_id: vocab.eosId,
    special: Object.fromEntries(CONTROL_TOKENS.map((t) => [t, vocab.tokens.indexOf(t)])),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '20250601' },
      groups: { type: 'string', default: '520' },
      turns: { type: 'string', default: '10' },
      'val-groups': { type: 'string', default: '20' },
      heldout: { type: 'string', default: '40' },
      out: { type: 'string', default: OUT_DIR },
    },
  });
  const seed = Number(values.seed);
  const groupCount = Number(values.groups);
  const valGroups = Number(values['val-groups']);
  const out = values.out;
  mkdirSync(out, { recursive: true });

  const groups = generateGroups(seed, groupCount, Number(values.turns));
  // Held-out prompts come from another seed: other worlds, other combinations of lines.
  const heldoutGroups = generateGroups(seed + 1_000_003, Number(values.heldout), 1);

  const texts: { group: DialogueGroup; turn: Turn; messages: readonly ChatMessage[]; text: string }[][] = [];
  for (const group of [...groups, ...heldoutGroups]) {
    const list = [];
    for (const turn of group.turns) {
      const reply = replyText(turn);
      const failure = await commitFailure(group.npc, group.world, reply);
      if (failure !== null) throw new Error(`${failure}\n${reply}\n${JSON.stringify(group.world)}`);
      const messages = turnMessages(group.npc, group.world, turn.player);
      list.push({ group, turn, messages, text: formatChat(messages, reply) });
    }
    texts.push(list);
  }
  const chars = [...charsOf(texts.flat().map((t) => t.text))].sort(
    (a, b) => (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0),
  );
  const vocab = createCharVocab(chars);
  if (vocab.tokens.length > 0xffff) throw new Error('vocabulary does not fit uint16 token ids');

  const tokens: number[] = [];
  const mask: number[] = [];
  const indexGroups: unknown[] = [];
  const stats = {
    examples: 0,
    actions: 0,
    byIntent: {} as Record<string, number>,
    longest: 0,
    promptLongest: 0,
  };
  const replyTokens: number[] = [];
  texts.slice(0, groups.length).forEach((list, g) => {
    const first = list[0];
    if (first === undefined) throw new Error('empty group');
    const prefix = encode(vocab, sharedPrefix(first.messages), { special: true });
    const examples: Example[] = [];
    for (const item of list) {
      const ids = encode(vocab, item.text, { special: true });
      const promptIds = encode(vocab, formatChatPrompt(item.messages), { special: true });
      if (!promptIds.every((id, i) => ids[i] === id))
        throw new Error('prompt tokens are not a prefix of the example');
      if (!prefix.every((id, i) => ids[i] === id))
        throw new Error('group prefix is not a prefix of the example');
      examples.push({
        start: tokens.length,
        length: ids.length,
        prompt_length: promptIds.length,
        intent: item.turn.intent,
      });
      for (const [i, id] of ids.entries()) {
        tokens.push(id);
        mask.push(i >= promptIds.length ? 1 : 0);
      }
      replyTokens.push(ids.length - promptIds.length);
      stats.examples += 1;
      stats.actions += item.turn.actions.length;
      stats.byIntent[`${item.group.npc}.${item.turn.intent}`] =
        (stats.byIntent[`${item.group.npc}.${item.turn.intent}`] ?? 0) + 1;
      stats.longest = Math.max(stats.longest, ids.length);
      stats.promptLongest = Math.max(stats.promptLongest, promptIds.length);
    }
    indexGroups.push({
      split: g < groups.length - valGroups ? 'train' : 'val',
      npc: first.group.npc,
      prefix_length: prefix.length,
      examples,
    });
  });

  const tokenBytes = Buffer.from(Uint16Array.from(tokens).buffer);
  const maskBytes = Buffer.from(Uint8Array.from(mask));
  const sha256 = createHash('sha256').update(tokenBytes).update(maskBytes).digest('hex');
  writeFileSync(join(out, 'tokens.bin'), tokenBytes);
  writeFileSync(join(out, 'mask.bin'), maskBytes);
  writeFileSync(join(out, 'vocab.json'), JSON.stringify(vocabJson(vocab, chars), null, 1));
  const meanReply = replyTokens.reduce((a, b) => a + b, 0) / replyTokens.length;
  const summary = {
    seed,
    groups: groups.length,
    val_groups: valGroups,
    examples: stats.examples,
    tokens: tokens.length,
    reply_tokens: mask.reduce((a, b) => a + b, 0),
    mean_reply_tokens: Math.round(meanReply * 10) / 10,
    longest_example_tokens: stats.longest,
    longest_prompt_tokens: stats.promptLongest,
    actions: stats.actions,
    vocab_size: vocab.tokens.length,
    chars: chars.length,
    sha256,
    intents: stats.byIntent,
  };
  writeFileSync(join(out, 'index.json'), JSON.stringify({ ...summary, groups: indexGroups }));

  const heldout = texts.slice(groups.length).map((list, i) => {
    const item = list[0];
    if (item === undefined) throw new Error('empty held-out group');
    return {
      id: `heldout-${i}`,
      npc: item.group.npc,
      intent: item.turn.intent,
      world: item.group.world,
      player: item.turn.player,
      expected_reply: replyText(item.turn),
      prompt_tokens: encode(vocab, formatChatPrompt(item.messages), { special: true }),
    };
  });
  writeFileSync(join(out, 'heldout.json'), JSON.stringify({ seed: seed + 1_000_003, prompts: heldout }));

  const sample = texts
    .slice(0, 3)
    .flat()
    .slice(0, 12)
    .map((t) => t.text);
  const replies = texts
    .slice(3, 40)
    .flat()
    .map((t) => `[${t.group.npc}.${t.turn.intent}] PLAYER: ${t.turn.player}\n${replyText(t.turn)}`);
  writeFileSync(
    join(out, 'corpus.txt'),
    [
      `# Parley NPC corpus — ${JSON.stringify(summary, null, 1)}`,
      '',
      '## First examples, in full',
      ...sample.map((s) => `${s}\n---`),
      '## More player lines and replies',
      ...replies.map((s) => `${s}\n---`),
    ].join('\n'),
  );
  const { intents: _intents, ...brief } = summary;
  console.log(JSON.stringify(brief, null, 1));
}

await main();
