import type { Conditions, Npc, Scenario } from '../../../shared/scenario';
import type {
  AcceptedEnvelope,
  Action,
  ProposalError,
  QuestStatus,
  RuleId,
  Verdict,
  WorldState,
} from '../../../shared/world';

/** Everything a rule may look at. Rules are pure functions of it: replay re-runs them. */
export interface GovernanceInput {
  readonly scenario: Scenario;
  readonly npcId: string;
  readonly npc: Npc;
  /** The character the NPC plays. */
  readonly actor: string;
  readonly proposals: readonly Action[];
  readonly proposalErrors: readonly ProposalError[];
  /** World state before the turn, and after its patch (equal to `before` when there is no patch). */
  readonly before: WorldState;
  readonly after: WorldState;
  /** Agent envelopes the merge arbiter accepted into this commit. */
  readonly envelopes: readonly AcceptedEnvelope[];
}

type Failure = Verdict['failures'][number];

export interface Rule {
  readonly id: RuleId;
  /** What the rule guarantees, one line (shown with its verdict). */
  readonly description: string;
  check(input: GovernanceInput): Failure[];
  /** The pass message. */
  passed(input: GovernanceInput): string;
}

const fail = (action_index: number | null, message: string): Failure => ({ action_index, message });

/** Walks proposals with the counts the actor gives away, so each give is checked against what is left. */
function ownership(input: GovernanceInput): Failure[] {
  const { before, actor } = input;
  const inv = before.inventories[actor];
  const items = new Map(Object.entries(inv?.items ?? {}));
  let coin = inv?.coin ?? 0;
  const failures: Failure[] = [];
  input.proposals.forEach((a, i) => {
    if (a.kind === 'give_item' || a.kind === 'sell_item') {
      const held = items.get(a.item) ?? 0;
      if (held < a.count)
        failures.push(fail(i, `${actor} gives ${a.count} × ${a.item} but holds ${held} at that point`));
      items.set(a.item, held - a.count);
    } else if (a.kind === 'give_coin') {
      if (coin < a.amount)
        failures.push(fail(i, `${actor} gives ${a.amount} coin but holds ${coin} at that point`));
      coin -= a.amount;
    }
  });
  return failures;
}

function nonNegative(input: GovernanceInput): Failure[] {
  const failures: Failure[] = [];
  for (const [who, inv] of Object.entries(input.after.inventories)) {
    if (inv.coin < 0) failures.push(fail(null, `${who} would hold ${inv.coin} coin`));
    for (const [item, n] of Object.entries(inv.items))
      if (n < 0) failures.push(fail(null, `${who} would hold ${n} × ${item}`));
  }
  return failures;
}

/** Why `conditions` do not hold in `state` for an NPC playing `actor` (empty when they do). */
export function unmetConditions(
  conditions: Conditions,
  scenario: Scenario,
  actor: string,
  state: WorldState,
): string[] {
  const reasons: string[] = [];
  for (const [flag, value] of Object.entries(conditions.flags))
    if (state.flags[flag] !== value)
      reasons.push(
        `flag ${flag} is ${JSON.stringify(state.flags[flag] ?? null)}, needs ${JSON.stringify(value)}`,
      );
  const playerItems = state.inventories[scenario.player]?.items ?? {};
  for (const [item, min] of Object.entries(conditions.player_items))
    if ((playerItems[item] ?? 0) < min)
      reasons.push(`player holds ${playerItems[item] ?? 0} × ${item}, needs ${min}`);
  for (const q of conditions.quests_completed)
    if (state.quests[q]?.status !== 'completed')
      reasons.push(`quest ${q} is ${state.quests[q]?.status ?? 'unknown'}, needs completed`);
  if (conditions.min_relationship !== undefined) {
    const score = state.relationships[actor]?.[scenario.player] ?? 0;
    if (score < conditions.min_relationship)
      reasons.push(
        `${actor}'s relationship toward the player is ${score}, needs ${conditions.min_relationship}`,
      );
  }
  return reasons;
}

const QUEST_TRANSITIONS: Record<
  'start_quest' | 'complete_quest' | 'fail_quest',
  { from: QuestStatus; to: QuestStatus }
> = {
  start_quest: { from: 'available', to: 'active' },
  complete_quest: { from: 'active', to: 'completed' },
  fail_quest: { from: 'active', to: 'failed' },
};

/**
 * Quest transitions must start from the right status (tracked through the turn, so start then
 * complete in one turn is judged in order) and their conditions must hold in the state before the turn.
 */
function questPreconditions(input: GovernanceInput): Failure[] {
  const status = new Map(Object.entries(input.before.quests).map(([id, q]) => [id, q.status]));
  const failures: Failure[] = [];
  input.proposals.forEach((a, i) => {
    if (a.kind !== 'start_quest' && a.kind !== 'complete_quest' && a.kind !== 'fail_quest') return;
    const { from, to } = QUEST_TRANSITIONS[a.kind];
    const current = status.get(a.quest);
    const def = input.scenario.world.quests[a.quest];
    if (current === undefined || def === undefined) {
      failures.push(fail(i, `no quest '${a.quest}'`));
      return;
    }
    if (current !== from) failures.push(fail(i, `quest ${a.quest} is ${current}; ${a.kind} needs ${from}`));
    const conditions =
      a.kind === 'start_quest' ? def.requires : a.kind === 'complete_quest' ? def.completion : undefined;
    if (conditions !== undefined)
      for (const reason of unmetConditions(conditions, input.scenario, input.actor, input.before))
        failures.push(fail(i, `quest ${a.quest}: ${reason}`));
    status.set(a.quest, to);
  });
  return failures;
}

function turnLimits(input: GovernanceInput): Failure[] {
  const limits = input.npc.governance;
  const failures: Failure[] = [];
  if (input.proposals.length > limits.max_actions_per_turn)
    failures.push(
      fail(
        null,
        `${input.proposals.length} actions proposed; the limit is ${limits.max_actions_per_turn} per turn`,
      ),
    );
  let coin = 0;
  const moved = new Map<string, number>();
  for (const a of input.proposals) {
    if (a.kind === 'give_coin') coin += a.amount;
    if (a.kind === 'adjust_relationship') moved.set(a.toward, (moved.get(a.toward) ?? 0) + Math.abs(a.delta));
  }
  if (coin > limits.max_coin_per_turn)
    failures.push(fail(null, `${coin} coin given away; the limit is ${limits.max_coin_per_turn} per turn`));
  for (const [toward, total] of moved)
    if (total > limits.max_relationship_delta)
      failures.push(
        fail(
          null,
          `relationship toward ${toward} moves by ${total}; the limit is ${limits.max_relationship_delta} per turn`,
        ),
      );
  return failures;
}

export const RULES: readonly Rule[] = [
  {
    id: 'well-formed-proposals',
    description: 'Every action line of the reply parses as an action.',
    check: (input) => input.proposalErrors.map((e) => fail(null, `line ${e.line}: ${e.message}`)),
    passed: (input) => `${input.proposals.length} action line(s), all well-formed`,
  },
  {
    id: 'allowed-actions',
    description: "Each action's kind is one the NPC may propose; set_flag only on its writable flags.",
    check: (input) =>
      input.proposals.flatMap((a, i) => {
        if (!input.npc.actions.includes(a.kind))
          return [
            fail(
              i,
              `${input.npcId} may not propose ${a.kind}; allowed: ${input.npc.actions.join(', ') || '(none)'}`,
            ),
          ];
        if (a.kind === 'set_flag' && !input.npc.governance.writable_flags.includes(a.flag))
          return [fail(i, `${input.npcId} may not set flag ${a.flag}`)];
        return [];
      }),
    passed: (input) => `all actions allowed for ${input.npcId}`,
  },
  {
    id: 'ownership',
    description: 'The NPC gives away only items and coin it holds.',
    check: ownership,
    passed: () => 'the NPC holds everything it gives',
  },
  {
    id: 'non-negative-balances',
    description: 'No coin balance or item count is negative after the commit.',
    check: nonNegative,
    passed: () => 'every balance and count is non-negative',
  },
  {
    id: 'quest-preconditions',
    description: 'Quest changes follow available → active → completed|failed and meet their conditions.',
    check: questPreconditions,
    passed: () => 'quest changes meet their preconditions',
  },
  {
    id: 'turn-limits',
    description: "The turn stays within the NPC's per-turn limits (actions, coin, relationship change).",
    check: turnLimits,
    passed: (input) => `within ${input.npcId}'s per-turn limits`,
  },
  {
    id: 'agent-blocks',
    description: 'No accepted agent envelope raised a blocking condition.',
    check: (input) =>
      input.envelopes.flatMap((e) =>
        e.block === null ? [] : [fail(null, `agent stream ${e.stream_id}: ${e.block}`)],
      ),
    passed: (input) => `${input.envelopes.length} agent envelope(s), none blocking`,
  },
];

/** Runs every rule; each gives a verdict. The commit may proceed only when all are ok. */
export function evaluateGovernance(input: GovernanceInput, rules: readonly Rule[] = RULES): Verdict[] {
  return rules.map((rule) => {
    const failures = rule.check(input);
    const first = failures[0];
    return {
      rule: rule.id,
      ok: failures.length === 0,
      message: first === undefined ? rule.passed(input) : first.message,
      failures,
    };
  });
}
