import type { ModelRef } from '../../../shared/common';
import type { NpcModelSetting, NpcSampling, NpcSamplingPatch } from '../../../shared/models';
import type { ScenarioCatalog } from '../authority/scenario-catalog';
import { RuntimeError } from '../core/errors';
import { definedEntries } from '../core/patch';

interface Override {
  readonly model?: ModelRef;
  readonly sampling?: NpcSamplingPatch;
}

/**
 * Which model and sampling each NPC speaks with. Precedence: the designer's choice (set from the
 * inspector), then the host's default model (the embedded model under `npm start`), then the
 * scenario file. Sampling comes from the scenario unless the designer changed it. A change applies
 * from the NPC's next turn, in every session; each commit's provenance records what was used.
 */
export class NpcSettings {
  private readonly overrides = new Map<string, Override>();

  constructor(
    private readonly scenarios: ScenarioCatalog,
    /** The host's default model; null: every NPC uses its scenario's model. */
    private readonly defaultModel: ModelRef | null,
    /** Refuses models no backend can load. */
    private readonly canLoad: (model: ModelRef) => boolean,
  ) {}

  private key(scenarioId: string, npcId: string): string {
    return `${scenarioId}\u0000${npcId}`;
  }

  private npc(scenarioId: string, npcId: string): { model: ModelRef; sampling: NpcSampling } {
    const scenario = this.scenarios.get(scenarioId).scenario;
    const npc = scenario.npcs[npcId];
    if (npc === undefined)
      throw new RuntimeError('unknown_npc', `scenario '${scenarioId}' has no NPC '${npcId}'`, {
        known: Object.keys(scenario.npcs),
      });
    return { model: npc.model, sampling: npc.sampling };
  }

  resolve(scenarioId: string, npcId: string): NpcModelSetting {
    const base = this.npc(scenarioId, npcId);
    const o = this.overrides.get(this.key(scenarioId, npcId));
    const model = o?.model ?? this.defaultModel ?? base.model;
    const source = o?.model !== undefined ? 'designer' : this.defaultModel !== null ? 'default' : 'scenario';
    return {
      scenario_id: scenarioId,
      npc_id: npcId,
      model,
      sampling: { ...base.sampling, ...definedEntries(o?.sampling) },
      source: o?.sampling !== undefined && source === 'scenario' ? 'designer' : source,
    };
  }

  list(scenarioId?: string): NpcModelSetting[] {
    const ids = scenarioId === undefined ? this.scenarios.all().map((s) => s.scenario.id) : [scenarioId];
    return ids.flatMap((id) =>
      Object.keys(this.scenarios.get(id).scenario.npcs).map((npcId) => this.resolve(id, npcId)),
    );
  }

  /** `null` returns a field to its default; `undefined` leaves it as it is. */
  set(
    scenarioId: string,
    npcId: string,
    change: { model?: ModelRef | null | undefined; sampling?: NpcSamplingPatch | null | undefined },
  ): NpcModelSetting {
    this.npc(scenarioId, npcId);
    if (change.model != null && !this.canLoad(change.model))
      throw new RuntimeError('unknown_model', `no model backend '${change.model.backend}' is configured`);
    const key = this.key(scenarioId, npcId);
    const current = this.overrides.get(key) ?? {};
    const model = change.model === undefined ? current.model : (change.model ?? undefined);
    const sampling =
      change.sampling === undefined
        ? current.sampling
        : change.sampling === null
          ? undefined
          : { ...current.sampling, ...change.sampling };
    const next: Override = {
      ...(model === undefined ? {} : { model }),
      ...(sampling === undefined ? {} : { sampling }),
    };
    if (next.model === undefined && next.sampling === undefined) this.overrides.delete(key);
    else this.overrides.set(key, next);
    return this.resolve(scenarioId, npcId);
  }
}
