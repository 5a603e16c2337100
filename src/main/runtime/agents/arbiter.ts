import {
  AgentEnvelope,
  INTENT_CLASSES,
  type AgentMode,
  type ArbiterVerdict,
  type PlannedSpawn,
  type SpawnPlan,
} from '../../../shared/agents';
import type { AcceptedEnvelope } from '../../../shared/world';
import { hashCanonical } from '../core/hash';

/** One envelope handed to the arbiter. `preview`: a shadow preview of a spawn that did not run. */
export interface Staged {
  readonly stream_id: string;
  readonly preview: boolean;
  readonly envelope: unknown;
  /** The stream gave no envelope, and why; recorded as a rejection. */
  readonly missing?: string;
  /** A stand-in from the plane for a critical stream that gave no valid envelope (it blocks). */
  readonly replaces?: boolean;
}

export interface BlackboardEntry {
  readonly stream_id: string;
  readonly envelope: AgentEnvelope;
  readonly envelope_hash: string;
  readonly effect: 'commit' | 'shadow';
}

export interface ArbiterResult {
  readonly mode: AgentMode;
  /** Accepted first (in acceptance order), then rejected (in plan order). */
  readonly verdicts: ArbiterVerdict[];
  /** The turn's blackboard: every accepted envelope with its stream id, in acceptance order. */
  readonly blackboard: BlackboardEntry[];
  /** Accepted envelopes that take part in the commit (`effect: commit`), in acceptance order. */
  readonly commit: AcceptedEnvelope[];
  readonly accepted: number;
  readonly rejected: number;
  readonly blocking: number;
  readonly decision_hash: string;
  /** Every staging whose envelope the arbiter could read (schema and canonical JSON), accepted or not. */
  readonly readable: ReadonlyMap<Staged, { readonly envelope: AgentEnvelope; readonly hash: string }>;
}

interface Candidate {
  readonly staged: Staged;
  readonly spawn: PlannedSpawn;
  readonly planIndex: number;
  readonly envelope: AgentEnvelope;
  readonly hash: string;
  readonly blocking: boolean;
}

function rejectedVerdict(
  stream_id: string,
  spawn: PlannedSpawn | undefined,
  preview: boolean,
  reason: string,
): ArbiterVerdict {
  return {
    stream_id,
    agent: spawn?.stream.agent ?? 'unknown',
    intent: spawn?.intent ?? 'unknown',
    accepted: false,
    effect: preview ? 'shadow' : 'commit',
    reason,
    blocking: false,
    order: null,
    envelope_hash: null,
  };
}

/** Blocking first, then higher confidence, then the earlier stream. */
function precedence(a: Candidate, b: Candidate): number {
  return (
    Number(b.blocking) - Number(a.blocking) ||
    b.envelope.confidence - a.envelope.confidence ||
    a.spawn.stream.sequence - b.spawn.stream.sequence ||
    a.planIndex - b.planIndex
  );
}

/** Acceptance order: blocking first, then intent priority, then plan order. */
function acceptanceOrder(a: Candidate, b: Candidate): number {
  return (
    Number(b.blocking) - Number(a.blocking) ||
    INTENT_CLASSES[b.envelope.intent].priority - INTENT_CLASSES[a.envelope.intent].priority ||
    a.planIndex - b.planIndex
  );
}

/**
 * The merge arbiter of one turn: the single writer of the turn's blackboard. Streams stage envelopes
 * (in any order); `decide` then accepts or rejects each deterministically, independent of staging order:
 *
 * 1. Invalid payloads are rejected (schema, unplanned stream, identity or intent not the plan's, a
 *    preview from a stream that ran or a real envelope from one that did not, a second envelope).
 * 2. Envelopes of the same agent and intent conflict: the one with blocking conditions wins, then the
 *    higher confidence, then the earlier stream; the others are rejected naming the winner.
 * 3. Accepted envelopes are ordered blocking first, then by intent priority, then plan order. Those of
 *    streams that really ran (`effect: commit`) go into the commit; previews stay on the blackboard.
 */
export class MergeArbiter {
  private readonly staged: Staged[] = [];
  private decided = false;
  private readonly spawns: Map<string, { spawn: PlannedSpawn; index: number }>;

  constructor(private readonly plan: SpawnPlan) {
    this.spawns = new Map(plan.spawns.map((spawn, index) => [spawn.stream.stream_id, { spawn, index }]));
  }

  stage(staged: Staged): void {
    if (this.decided) throw new Error('the arbiter has decided; no more envelopes for this turn');
    this.staged.push(staged);
  }

  decide(): ArbiterResult {
    if (this.decided) throw new Error('the arbiter decides once per turn');
    this.decided = true;
    const rejected: { verdict: ArbiterVerdict; index: number; hash: string }[] = [];
    const valid: Candidate[] = [];
    const seen = new Set<string>();
    const readable = new Map<Staged, { envelope: AgentEnvelope; hash: string }>();
    // Plan order, then a hash of everything staged: staging order never matters.
    // Only stagings of one stream can tie on plan index and stream id; only they need the key.
    const perStream = new Map<string, number>();
    for (const s of this.staged) perStream.set(s.stream_id, (perStream.get(s.stream_id) ?? 0) + 1);
    const ordered = this.staged
      .map((s) => ({
        s,
        hash: (perStream.get(s.stream_id) ?? 0) > 1 ? stagingKey(s) : '',
        index: this.spawns.get(s.stream_id)?.index ?? Number.MAX_SAFE_INTEGER,
      }))
      .sort(
        (a, b) =>
          a.index - b.index ||
          (a.s.stream_id < b.s.stream_id ? -1 : a.s.stream_id > b.s.stream_id ? 1 : 0) ||
          (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0),
      );
    for (const { s, hash, index } of ordered) {
      const planned = this.spawns.get(s.stream_id);
      const reject = (reason: string): void => {
        rejected.push({
          verdict: rejectedVerdict(s.stream_id, planned?.spawn, s.preview, reason),
          index,
          hash,
        });
      };
      if (planned === undefined) {
        reject('invalid payload: stream not planned this turn');
        continue;
      }
      const { spawn } = planned;
      if (s.missing !== undefined) {
        reject(`no envelope: the stream ${s.missing}`);
        continue;
      }
      const parsed = AgentEnvelope.safeParse(s.envelope);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        reject(
          `invalid payload: ${issue === undefined ? 'not an envelope' : `${issue.path.join('.') || '(root)'}: ${issue.message}`}`,
        );
        continue;
      }
      const env = parsed.data;
      let envelopeHash: string;
      try {
        envelopeHash = hashCanonical(env);
      } catch {
        reject('invalid payload: not representable as canonical JSON');
        continue;
      }
      readable.set(s, { envelope: env, hash: envelopeHash });
      const id = env.stream;
      if (
        id.stream_id !== spawn.stream.stream_id ||
        id.agent !== spawn.stream.agent ||
        id.turn_id !== spawn.stream.turn_id ||
        id.session_id !== spawn.stream.session_id ||
        id.sequence !== spawn.stream.sequence ||
        id.run_id !== spawn.stream.run_id
      ) {
        reject('invalid payload: stream identity does not match the plan');
        continue;
      }
      if (env.intent !== spawn.intent) {
        reject(`invalid payload: intent '${env.intent}' but the stream was planned for '${spawn.intent}'`);
        continue;
      }
      if (s.preview === spawn.execute) {
        reject(
          s.preview
            ? 'invalid payload: a preview from a stream that runs'
            : 'invalid payload: an envelope from a stream that was not run',
        );
        continue;
      }
      if (seen.has(s.stream_id)) {
        reject('invalid payload: a second envelope from the same stream');
        continue;
      }
      seen.add(s.stream_id);
      valid.push({
        staged: s,
        spawn,
        planIndex: index,
        envelope: env,
        hash: envelopeHash,
        blocking: env.blocking_conditions.length > 0,
      });
    }

    // Conflicts: one envelope per agent + intent.
    const groups = new Map<string, Candidate[]>();
    for (const c of valid) {
      const key = `${c.spawn.stream.agent}\u0000${c.envelope.intent}`;
      const group = groups.get(key) ?? [];
      group.push(c);
      groups.set(key, group);
    }
    const winners: Candidate[] = [];
    for (const group of groups.values()) {
      const [winner, ...losers] = [...group].sort(precedence);
      if (winner === undefined) continue;
      winners.push(winner);
      for (const l of losers)
        rejected.push({
          verdict: rejectedVerdict(
            l.spawn.stream.stream_id,
            l.spawn,
            l.staged.preview,
            `duplicate of ${winner.spawn.stream.stream_id} for ${l.spawn.stream.agent}/${l.envelope.intent}: ${
              winner.blocking && !l.blocking
                ? 'the winner blocks'
                : winner.envelope.confidence > l.envelope.confidence
                  ? 'lower confidence'
                  : 'later stream'
            }`,
          ),
          index: l.planIndex,
          hash: l.hash,
        });
    }
    winners.sort(acceptanceOrder);
    const verdicts: ArbiterVerdict[] = winners.map((c, order) => ({
      stream_id: c.spawn.stream.stream_id,
      agent: c.spawn.stream.agent,
      intent: c.envelope.intent,
      accepted: true,
      effect: c.staged.preview ? 'shadow' : 'commit',
      reason: c.blocking
        ? `accepted: blocks the commit (${c.envelope.blocking_conditions.map((b) => b.code).join(', ')})`
        : c.staged.preview
          ? 'accepted as a shadow preview: shown, not part of the commit'
          : `accepted: ${c.envelope.decision}, confidence ${c.envelope.confidence.toFixed(2)}`,
      blocking: c.blocking,
      order,
      envelope_hash: c.hash,
    }));
    rejected.sort((a, b) => a.index - b.index || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    verdicts.push(...rejected.map((r) => r.verdict));
    const blackboard: BlackboardEntry[] = winners.map((c) => ({
      stream_id: c.spawn.stream.stream_id,
      envelope: c.envelope,
      envelope_hash: c.hash,
      effect: c.staged.preview ? 'shadow' : 'commit',
    }));
    const commit: AcceptedEnvelope[] = winners
      .filter((c) => !c.staged.preview)
      .map((c) => ({
        stream_id: c.spawn.stream.stream_id,
        agent: c.spawn.stream.agent,
        intent: c.envelope.intent,
        decision: c.envelope.decision,
        confidence: c.envelope.confidence,
        envelope_hash: c.hash,
        block: c.blocking
          ? c.envelope.blocking_conditions.map((b) => `${b.code}: ${b.message}`).join('; ')
          : null,
      }));
    return {
      mode: this.plan.mode,
      verdicts,
      blackboard,
      commit,
      accepted: winners.length,
      rejected: rejected.length,
      blocking: commit.filter((c) => c.block !== null).length,
      decision_hash: hashCanonical(verdicts),
      readable,
    };
  }
}

/** Orders stagings of one stream: two that differ only in `missing` or `preview` must not tie. */
function stagingKey(s: Staged): string {
  return hashCanonical({
    envelope: safeHash(s.envelope),
    preview: s.preview,
    missing: s.missing ?? null,
    replaces: s.replaces === true,
  });
}

/** A hash of anything staged, for ordering; values JSON cannot hold hash by their string form. */
function safeHash(value: unknown): string {
  try {
    return hashCanonical(value);
  } catch {
    return hashCanonical(String(value));
  }
}
