/**
 * The sample scenarios shipped with Parley (scenarios/*.scenario.json), bundled into the build as
 * JSON so the runtime needs no files at run time. They are validated when this module loads: a
 * broken sample fails every test that imports it, loudly.
 */
import tidewatchLight from '../../../../scenarios/tidewatch-light.scenario.json' with { type: 'json' };
import waysideInn from '../../../../scenarios/wayside-inn.scenario.json' with { type: 'json' };
import { parseScenarioValue, type LoadedScenario } from './scenario-loader';

/** The scenario a session plays when none is named. */
export const DEFAULT_SCENARIO_ID = 'wayside-inn';

function builtin(value: { readonly id: string }): LoadedScenario {
  return parseScenarioValue(value, `builtin:${value.id}`);
}

/** Default first, then the others by id. */
export const BUILTIN_SCENARIOS: readonly LoadedScenario[] = [builtin(waysideInn), builtin(tidewatchLight)];
