/**
 * The built-in agents, one per intent class. All are rule-based and deterministic: they read the turn
 * context (and the reply, when they need it) and stream a few words of their working as they go.
 */
import type { Action } from '../../../shared/world';
import { unmetConditions } from '../authority/governance';
import type { AgentDefinition, AgentRunContext, EnvelopeDraft } from './contracts';

const POSITIVE = ['thank', 'grateful', 'please', 'kind', 'love', 'friend', 'sorry', 'wonderful', 'great'];
const NEGATIVE = ['rude', 'swill', 'filthy', 'hate', 'idiot', 'liar', 'stupid', 'angry', 'bribe', 'threat'];
const QUEST_WORDS = [
  'quest',
  'job',
  'work',
  'task',
  'help',
  'reward',
  'payment',
  'done',
  'cleared',
  'finished',
];

const words = (text: string): string[] => text.toLowerCase().match(/[a-z']+/g) ?? [];
/** The phrases `text` contains as whole words ("inn" is not found in "dinner"), case-insensitively. */
const found = (text: string, phrases: readonly string[]): string[] => {
  const t = ` ${words(text).join(' ')} `;
  return phrases.filter((p) => {
    const w = words(p);
    return w.length > 0 && t.includes(` ${w.join(' ')} `);
  });
};

function needReply(ctx: AgentRunContext): NonNullable<AgentRunContext['reply']> {
  if (ctx.reply === null) throw new Error(`${ctx.stream.agent} needs the NPC's reply`);
  return ctx.reply;
}

/** Critical: blocks a line that says a blocked phrase or hands over a restricted item. */
export const safetyAgent: AgentDefinition = {
  name: 'safety',
  intent: 'safety_check',
  wishes: () => [{ relevance: 1, reason: 'every reply is checked before it can commit' }],
  async run(ctx) {
    const reply = needReply(ctx);
    const { safety } = ctx.turn.scenario;
    await ctx.say('checking the line');
    const conditions: EnvelopeDraft['blocking_conditions'][number][] = [];
    const evidence: string[] = ['reply:text'];
    for (const phrase of found(reply.spoken, safety.blocked_phrases)) {
      conditions.push({ code: 'blocked_phrase', message: `the line says "${phrase}"` });
      evidence.push(`scenario:safety/blocked_phrases/${phrase}`);
    }
    await ctx.say(` and ${reply.proposals.length} action(s)`);
    reply.proposals.forEach((a, i) => {
      if ((a.kind === 'give_item' || a.kind === 'sell_item') && safety.restricted_items.includes(a.item)) {
        conditions.push({
          code: 'restricted_item',
          message: `action ${i} (${a.kind}) hands over restricted item '${a.item}'`,
        });
        evidence.push(`reply:action/${i}`, `scenario:safety/restricted_items/${a.item}`);
      }
    });
    await ctx.say(conditions.length > 0 ? `: ${conditions.length} problem(s)` : ': clean');
    return {
      decision: conditions.length > 0 ? 'block' : 'allow',
      confidence: 1,
      evidence_refs: evidence,
      blocking_conditions: conditions,
      summary: conditions.length > 0 ? conditions.map((c) => c.message).join('; ') : 'nothing blocked',
    };
  },
};

/** Which quests the world is ready for, and whether the reply's quest actions are among them. */
export const questGateAgent: AgentDefinition = {
  name: 'quest_gate',
  intent: 'quest_readiness',
  wishes(turn) {
    const quests = Object.values(turn.scenario.world.quests);
    if (quests.length === 0) return [];
    const titleWords = quests.flatMap((q) => words(q.title).filter((w) => w.length >= 4));
    const hit = found(turn.playerText, [...QUEST_WORDS, ...titleWords]);
    return [
      hit.length > 0
        ? { relevance: 0.9, reason: `the line mentions ${hit.slice(0, 3).join(', ')}` }
        : { relevance: 0.3, reason: 'the scenario has quests' },
    ];
  },
  async run(ctx) {
    const reply = needReply(ctx);
    const { scenario, world, npc } = ctx.turn;
    const actor = npc.character;
    await ctx.say('reading quest conditions');
    const readyToStart: string[] = [];
    const readyToComplete: string[] = [];
    for (const [id, q] of Object.entries(scenario.world.quests)) {
      const status = world.quests[id]?.status;
      if (status === 'available' && unmetConditions(q.requires, scenario, actor, world).length === 0)
        readyToStart.push(id);
      if (status === 'active' && unmetConditions(q.completion, scenario, actor, world).length === 0)
        readyToComplete.push(id);
    }
    const notReady: { quest: string; action_index: number; reasons: string[] }[] = [];
    reply.proposals.forEach((a: Action, i) => {
      if (a.kind !== 'start_quest' && a.kind !== 'complete_quest') return;
      const ready = a.kind === 'start_quest' ? readyToStart : readyToComplete;
      if (ready.includes(a.quest)) return;
      const def = scenario.world.quests[a.quest];
      const reasons =
        def === undefined
          ? [`no quest '${a.quest}'`]
          : unmetConditions(a.kind === 'start_quest' ? def.requires : def.completion, scenario, actor, world);
      notReady.push({
        quest: a.quest,
        action_index: i,
        reasons:
          reasons.length > 0
            ? reasons
            : [`quest ${a.quest} is ${world.quests[a.quest]?.status ?? 'unknown'}`],
      });
    });
    await ctx.say(`: ${readyToStart.length} ready to start, ${readyToComplete.length} ready to complete`);
    return {
      decision: notReady.length > 0 ? 'flag' : 'allow',
      confidence: 0.9,
      evidence_refs: [
        ...readyToStart.map((q) => `world:/quests/${q}`),
        ...notReady.map((n) => `reply:action/${n.action_index}`),
      ],
      blocking_conditions: [],
      summary:
        notReady.length > 0
          ? `the reply moves quests that are not ready: ${notReady.map((n) => `${n.quest} (${n.reasons[0] ?? ''})`).join('; ')}`
          : `ready to start: ${readyToStart.join(', ') || 'none'}; ready to complete: ${readyToComplete.join(', ') || 'none'}`,
      data: { ready_to_start: readyToStart, ready_to_complete: readyToComplete, not_ready: notReady },
    };
  },
};

/** Flags replies that say something the scenario's lore contradicts. Never blocks. */
export const loreAgent: AgentDefinition = {
  name: 'lore',
  intent: 'lore_consistency',
  wishes(turn) {
    const { lore } = turn.scenario;
    if (lore.length === 0) return [];
    const hit = lore.filter((f) => found(turn.playerText, f.keywords).length > 0).map((f) => f.id);
    return [
      hit.length > 0
        ? { relevance: 1, reason: `the line touches lore: ${hit.join(', ')}` }
        : { relevance: 0.7, reason: `${lore.length} lore fact(s) to keep consistent` },
    ];
  },
  async run(ctx) {
    const reply = needReply(ctx);
    const contradictions: { lore: string; phrase: string; fact: string }[] = [];
    for (const fact of ctx.turn.scenario.lore) {
      await ctx.say(`${fact.id} `);
      for (const phrase of found(reply.spoken, fact.contradicted_by))
        contradictions.push({ lore: fact.id, phrase, fact: fact.fact });
    }
    await ctx.say(contradictions.length > 0 ? `→ ${contradictions.length} contradiction(s)` : '→ consistent');
    return {
      decision: contradictions.length > 0 ? 'flag' : 'allow',
      confidence: contradictions.length > 0 ? 0.9 : 0.6,
      evidence_refs: ['reply:text', ...contradictions.map((c) => `lore:${c.lore}`)],
      blocking_conditions: [],
      summary:
        contradictions.length > 0
          ? contradictions.map((c) => `"${c.phrase}" contradicts ${c.lore}: ${c.fact}`).join('; ')
          : 'no contradiction with the lore',
      data: { contradictions },
    };
  },
};

/** Where the NPC's feeling toward the player is heading: the line's tone plus the reply's own changes. */
export const emotionAgent: AgentDefinition = {
  name: 'emotion',
  intent: 'relationship_trajectory',
  wishes(turn) {
    const hit = found(turn.playerText, [...POSITIVE, ...NEGATIVE]);
    return [
      hit.length > 0
        ? { relevance: 0.8, reason: `emotional words: ${hit.slice(0, 3).join(', ')}` }
        : { relevance: 0.4, reason: 'no emotional words' },
    ];
  },
  async run(ctx) {
    const reply = needReply(ctx);
    const { world, npc, scenario, playerText } = ctx.turn;
    const current = world.relationships[npc.character]?.[scenario.player] ?? 0;
    const tone = found(playerText, POSITIVE).length - found(playerText, NEGATIVE).length;
    await ctx.say(`tone ${tone >= 0 ? '+' : ''}${tone}`);
    const fromActions = reply.proposals.reduce(
      (sum, a) => (a.kind === 'adjust_relationship' && a.toward === scenario.player ? sum + a.delta : sum),
      0,
    );
    const projected = Math.max(-100, Math.min(100, current + fromActions + tone * 2));
    const trajectory = projected > current ? 'warming' : projected < current ? 'cooling' : 'steady';
    await ctx.say(`, ${current} → ${projected} (${trajectory})`);
    return {
      decision: 'propose',
      confidence: tone === 0 && fromActions === 0 ? 0.5 : 0.75,
      evidence_refs: [`world:/relationships/${npc.character}/${scenario.player}`, 'player:text'],
      blocking_conditions: [],
      summary: `${npc.character} toward ${scenario.player}: ${current} → ${projected}, ${trajectory}`,
      data: { current, projected, trajectory, tone, from_actions: fromActions },
    };
  },
};

/** Guesses the player's next move from what the world offers them now; feeds predictive prewarm. */
export const nextMoveAgent: AgentDefinition = {
  name: 'next_move',
  intent: 'next_move_discovery',
  wishes: () => [{ relevance: 0.7, reason: 'predicts the next turn for prewarm' }],
  async run(ctx) {
    const { scenario, world, npc, playerText, npcId } = ctx.turn;
    await ctx.say('listing moves');
    const said = new Set(words(playerText));
    const coin = world.inventories[scenario.player]?.coin ?? 0;
    const moves: { move: string; likelihood: number }[] = [];
    const held = world.inventories[npc.character]?.items ?? {};
    if (npc.actions.includes('sell_item'))
      for (const [item, n] of Object.entries(held)) {
        const value = scenario.world.items[item]?.value ?? 0;
        if (n > 0 && value <= coin)
          moves.push({
            move: `buy ${item}`,
            likelihood:
              said.has(item) || words(scenario.world.items[item]?.name ?? '').some((w) => said.has(w))
                ? 0.6
                : 0.2,
          });
      }
    for (const [id, q] of Object.entries(scenario.world.quests)) {
      const status = world.quests[id]?.status;
      if (status === 'available' || status === 'active')
        moves.push({
          move: `${status === 'available' ? 'ask about' : 'report on'} ${id}`,
          likelihood: words(q.title).some((w) => said.has(w)) ? 0.5 : 0.25,
        });
    }
    // Other NPCs the player names are likely next conversations: their models are worth prewarming.
    const named = Object.entries(scenario.npcs)
      .filter(([id, other]) => {
        if (id === npcId) return false;
        const name = scenario.world.characters[other.character]?.name ?? id;
        return [id.toLowerCase(), ...words(name)].some((w) => said.has(w));
      })
      .map(([id]) => id);
    for (const id of named) moves.push({ move: `talk to ${id}`, likelihood: 0.5 });
    moves.sort((a, b) => b.likelihood - a.likelihood || (a.move < b.move ? -1 : 1));
    const top = moves.slice(0, 3);
    await ctx.say(`: ${top.map((m) => m.move).join(', ') || 'nothing obvious'}`);
    return {
      decision: 'predict',
      confidence: top[0]?.likelihood ?? 0.1,
      evidence_refs: ['player:text', `world:/inventories/${scenario.player}/coin`],
      blocking_conditions: [],
      summary:
        top.length > 0
          ? `next: ${top.map((m) => `${m.move} (${m.likelihood})`).join(', ')}`
          : 'no likely move',
      // NPC ids whose models the runtime prewarms (it resolves each NPC's current model itself).
      data: { predictions: top, prewarm: [npcId, ...named].map((id) => ({ npc_id: id })) },
    };
  },
};

/** In AGENT_NAMES order. */
export const BUILTIN_AGENTS: readonly AgentDefinition[] = [
  safetyAgent,
  questGateAgent,
  loreAgent,
  emotionAgent,
  nextMoveAgent,
];
