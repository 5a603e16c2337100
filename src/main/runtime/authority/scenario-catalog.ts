import type { ScenarioSummary } from '../../../shared/scenario';
import { RuntimeError } from '../core/errors';
import { summarizeScenario, type LoadedScenario } from './scenario-loader';

/** The scenarios a runtime can start sessions in, by id. */
export class ScenarioCatalog {
  private readonly byId = new Map<string, LoadedScenario>();
  readonly defaultId: string;

  constructor(scenarios: readonly LoadedScenario[], defaultId?: string) {
    for (const s of scenarios) {
      const taken = this.byId.get(s.scenario.id);
      if (taken !== undefined)
        throw new Error(`scenario id '${s.scenario.id}' is defined by both ${taken.source} and ${s.source}`);
      this.byId.set(s.scenario.id, s);
    }
    const id = defaultId ?? scenarios[0]?.scenario.id;
    if (id === undefined || !this.byId.has(id))
      throw new Error(`default scenario '${String(id)}' is not among the loaded scenarios`);
    this.defaultId = id;
  }

  get(id: string = this.defaultId): LoadedScenario {
    const s = this.byId.get(id);
    if (s === undefined)
      throw new RuntimeError('unknown_scenario', `no scenario '${id}'`, { known: [...this.byId.keys()] });
    return s;
  }

  all(): LoadedScenario[] {
    return [...this.byId.values()];
  }

  summaries(): ScenarioSummary[] {
    return this.all().map(summarizeScenario);
  }
}
