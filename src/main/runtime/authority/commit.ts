import type { ParsedOutput } from '../../../shared/proposals';
import type { Npc, Scenario } from '../../../shared/scenario';
import type {
  AcceptedEnvelope,
  CommitStage,
  PatchOperation,
  Verdict,
  WorldState,
} from '../../../shared/world';
import type { ExtensionManager } from './extensions';
import { evaluateGovernance } from './governance';
import { stateHash } from './world-state';

export interface CommitAttemptInput {
  readonly scenario: Scenario;
  readonly npcId: string;
  readonly npc: Npc;
  readonly before: WorldState;
  readonly output: Pick<ParsedOutput, 'proposals' | 'errors'>;
  readonly envelopes: readonly AcceptedEnvelope[];
  readonly signal?: AbortSignal;
}

export interface CommitFailure {
  readonly stage: CommitStage;
  readonly code: string;
  readonly message: string;
}

/** The decision of a commit attempt, before anything is written. */
export interface PreparedCommit {
  /** The patch to apply, or (failed) the one refused; empty when no patch was made. */
  readonly patch: PatchOperation[];
  /** World state after the patch; null when the attempt failed. */
  readonly after: WorldState | null;
  readonly afterHash: string | null;
  /** Every governance rule's verdict; empty when an extension failed first. */
  readonly verdicts: Verdict[];
  readonly failure: CommitFailure | null;
}

/** An attempt that failed before governance could judge it: no patch, no verdicts. */
function failedEarly(failure: CommitFailure): PreparedCommit {
  return { patch: [], after: null, afterHash: null, verdicts: [], failure };
}

/**
 * The decision half of the commit boundary: extension workloads, then governance. Pure apart from
 * the extensions' own work, and deterministic, so replay can re-run it and compare. Never throws: a
 * bad proposal, a failing extension or an unexpected error is a failure of the attempt.
 */
export async function prepareCommit(
  extensions: ExtensionManager,
  input: CommitAttemptInput,
): Promise<PreparedCommit> {
  try {
    return await decide(extensions, input);
  } catch (err) {
    return failedEarly({
      stage: 'extensions',
      code: 'internal',
      message: `commit preparation failed: ${String(err)}`,
    });
  }
}

async function decide(extensions: ExtensionManager, input: CommitAttemptInput): Promise<PreparedCommit> {
  const { scenario, npcId, npc, before, output } = input;
  const ran = await extensions.run({
    scenario,
    npcId,
    actor: npc.character,
    before,
    proposals: output.proposals,
    ...(input.signal === undefined ? {} : { signal: input.signal }),
  });
  if (!ran.ok) return failedEarly({ stage: 'extensions', code: ran.code, message: ran.message });
  const verdicts = evaluateGovernance({
    scenario,
    npcId,
    npc,
    actor: npc.character,
    proposals: output.proposals,
    proposalErrors: output.errors,
    before,
    after: ran.after,
    envelopes: input.envelopes,
  });
  const failed = verdicts.filter((v) => !v.ok);
  if (failed.length > 0)
    return {
      patch: ran.patch,
      after: null,
      afterHash: null,
      verdicts,
      failure: {
        stage: 'governance',
        code: 'governance_failed',
        message: `governance refused the commit: ${failed.map((v) => `${v.rule} (${v.message})`).join('; ')}`,
      },
    };
  return { patch: ran.patch, after: ran.after, afterHash: stateHash(ran.after), verdicts, failure: null };
}
