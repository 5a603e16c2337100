import type { Scenario } from '../../../shared/scenario';
import type { Action, ActionKind, ActionOf, PatchOperation, WorldState } from '../../../shared/world';
import type { Clock } from '../core/clock';
import { applyPatch, deepFreeze, PatchApplyError } from './world-state';

/** What an extension sees of one proposal. Everything is read-only; `state` is deep-frozen. */
export interface ExtensionContext<K extends ActionKind = ActionKind> {
  readonly scenario: Scenario;
  readonly npcId: string;
  /** The character the NPC plays: the actor of every action it proposes. */
  readonly actor: string;
  /** World state with the turn's earlier proposals already applied. */
  readonly state: WorldState;
  readonly action: ActionOf<K>;
  /** Index of the action in the turn's proposals. */
  readonly index: number;
  /** Aborted when the workload's budget is spent or the turn is cancelled. */
  readonly signal: AbortSignal;
}

/**
 * Turns proposals of some action kinds into JSON Patches against the current world state. An
 * extension must be deterministic (replay re-runs it and compares patches): no wall time, no
 * randomness, nothing but its context. It never mutates state; the manager applies its patch.
 */
export interface Extension {
  readonly id: string;
  readonly kinds: readonly ActionKind[];
  /** Throw ProposalInvalid when the proposal cannot apply to this world (unknown item, self-gift...). */
  plan(ctx: ExtensionContext): readonly PatchOperation[] | Promise<readonly PatchOperation[]>;
}

export interface Handler {
  readonly kind: ActionKind;
  readonly plan: (ctx: ExtensionContext) => readonly PatchOperation[];
}

/** A handler for one action kind, with its context typed to that kind. */
export function defineHandler<K extends ActionKind>(
  kind: K,
  plan: (ctx: ExtensionContext<K>) => readonly PatchOperation[],
): Handler {
  return {
    kind,
    plan(ctx) {
      if (ctx.action.kind !== kind)
        throw new Error(`handler for '${kind}' got a '${ctx.action.kind}' action`);
      return plan(ctx as unknown as ExtensionContext<K>);
    },
  };
}

/** An extension made of handlers, one per action kind. */
export function extensionOf(id: string, handlers: readonly Handler[]): Extension {
  const byKind = new Map(handlers.map((h) => [h.kind, h.plan]));
  return {
    id,
    kinds: handlers.map((h) => h.kind),
    plan(ctx) {
      const plan = byKind.get(ctx.action.kind);
      if (plan === undefined) throw new Error(`extension '${id}' does not handle '${ctx.action.kind}'`);
      return plan(ctx);
    },
  };
}

/** A proposal that cannot apply to this world. Fails the commit with code `proposal_invalid`. */
export class ProposalInvalid extends Error {
  override readonly name = 'ProposalInvalid';
}

export type ExtensionFailureCode =
  'proposal_invalid' | 'extension_failed' | 'extension_timeout' | 'no_extension';

export interface ExtensionStep {
  readonly index: number;
  readonly extension: string;
  readonly patch: readonly PatchOperation[];
}

export type ExtensionOutcome =
  | {
      readonly ok: true;
      /** The whole turn's patch: every step's operations in proposal order. */
      readonly patch: PatchOperation[];
      readonly after: WorldState;
      readonly steps: ExtensionStep[];
    }
  | {
      readonly ok: false;
      readonly code: ExtensionFailureCode;
      readonly message: string;
      readonly index: number;
      readonly extension: string | null;
    };

export interface ExtensionRunInput {
  readonly scenario: Scenario;
  readonly npcId: string;
  readonly actor: string;
  readonly before: WorldState;
  readonly proposals: readonly Action[];
  /** Aborts every workload (turn cancelled). */
  readonly signal?: AbortSignal;
}

export interface ExtensionManagerOptions {
  readonly clock: Clock;
  /** Time budget of one workload (one proposal), ms. Default 250. */
  readonly budgetMs?: number;
}

class BudgetSpent extends Error {}

/**
 * The registry of extensions. At finalization each proposal is routed to the extension registered
 * for its kind, which plans a patch against the state left by the proposals before it. A workload
 * that throws, returns a patch that does not apply, or exceeds its budget fails the commit, never
 * the runtime.
 *
 * The budget is enforced two ways: an asynchronous workload is abandoned when its time is up (its
 * signal aborts and its late result is ignored); a synchronous one cannot be pre-empted in-process,
 * so one that returns after its budget is failed all the same.
 */
export class ExtensionManager {
  private readonly byKind = new Map<ActionKind, Extension>();
  readonly budgetMs: number;

  constructor(
    extensions: readonly Extension[],
    private readonly options: ExtensionManagerOptions,
  ) {
    this.budgetMs = options.budgetMs ?? 250;
    for (const ext of extensions)
      for (const kind of ext.kinds) {
        const taken = this.byKind.get(kind);
        if (taken !== undefined)
          throw new Error(`action kind '${kind}' is claimed by extensions '${taken.id}' and '${ext.id}'`);
        this.byKind.set(kind, ext);
      }
  }

  /** Extension ids by the kinds they handle. */
  registry(): Record<string, string> {
    return Object.fromEntries([...this.byKind].map(([kind, ext]) => [kind, ext.id]));
  }

  async run(input: ExtensionRunInput): Promise<ExtensionOutcome> {
    let state = deepFreeze(structuredClone(input.before));
    const patch: PatchOperation[] = [];
    const steps: ExtensionStep[] = [];
    for (const [index, action] of input.proposals.entries()) {
      const ext = this.byKind.get(action.kind);
      if (ext === undefined)
        return {
          ok: false,
          code: 'no_extension',
          message: `action ${index} (${action.kind}): no extension handles '${action.kind}'`,
          index,
          extension: null,
        };
      const fail = (code: ExtensionFailureCode, message: string): ExtensionOutcome => ({
        ok: false,
        code,
        message: `action ${index} (${action.kind}), extension '${ext.id}': ${message}`,
        index,
        extension: ext.id,
      });
      let ops: readonly PatchOperation[];
      try {
        ops = await this.workload(ext, { ...input, state, action, index });
      } catch (err) {
        if (err instanceof ProposalInvalid) return fail('proposal_invalid', err.message);
        if (err instanceof BudgetSpent) return fail('extension_timeout', err.message);
        return fail(
          'extension_failed',
          `threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
        );
      }
      try {
        state = deepFreeze(applyPatch(state, ops));
      } catch (err) {
        if (err instanceof PatchApplyError)
          return fail('extension_failed', `planned a bad patch: ${err.message}`);
        throw err;
      }
      const copy = structuredClone(ops) as PatchOperation[];
      patch.push(...copy);
      steps.push({ index, extension: ext.id, patch: copy });
    }
    return { ok: true, patch, after: state, steps };
  }

  private async workload(
    ext: Extension,
    ctx: Omit<ExtensionContext, 'signal'> & { readonly signal?: AbortSignal | undefined },
  ): Promise<readonly PatchOperation[]> {
    const { clock } = this.options;
    const budget = this.budgetMs;
    const controller = new AbortController();
    const outer = ctx.signal;
    const onOuterAbort = () => {
      controller.abort(outer?.reason);
    };
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    // A turn cancelled before this workload started: its signal is aborted from the start.
    if (outer?.aborted === true) controller.abort(outer.reason);
    const started = clock.now();
    const timer = new AbortController();
    try {
      const work = Promise.resolve().then(() => ext.plan({ ...ctx, signal: controller.signal }));
      const deadline = clock.sleep(budget, timer.signal).then(() => {
        throw new BudgetSpent(`did not finish within its ${budget} ms budget`);
      });
      const ops = await Promise.race([work, deadline]);
      const elapsed = clock.now() - started;
      if (elapsed > budget)
        throw new BudgetSpent(
          `took ${elapsed} ms, over its ${budget} ms budget (synchronous work is not pre-empted)`,
        );
      return ops;
    } catch (err) {
      controller.abort(err);
      throw err;
    } finally {
      timer.abort();
      outer?.removeEventListener('abort', onOuterAbort);
    }
  }
}
