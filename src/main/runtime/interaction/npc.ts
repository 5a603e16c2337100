import { ACTION_PREFIX } from '../../../shared/proposals';
import type { ModelRef } from '../../../shared/common';
import type { Npc, Scenario } from '../../../shared/scenario';
import type { WorldState } from '../../../shared/world';
import { RuntimeError } from '../core/errors';
import { canonicalJson } from '../core/hash';
import type { ChatMessage, GenerationRequest, SamplingParams } from '../models/backend';

/** An NPC of a scenario, resolved for a session. */
export interface NpcConfig {
  readonly id: string;
  /** The character's display name. */
  readonly name: string;
  readonly persona: string;
  readonly model: ModelRef;
  readonly sampling: SamplingParams;
  readonly spec: Npc;
}

export function npcConfig(scenario: Scenario, npcId: string): NpcConfig {
  const spec = scenario.npcs[npcId];
  if (spec === undefined)
    throw new RuntimeError('unknown_npc', `scenario '${scenario.id}' has no NPC '${npcId}'`, {
      known: Object.keys(scenario.npcs),
    });
  const s = spec.sampling;
  return {
    id: npcId,
    name: scenario.world.characters[spec.character]?.name ?? npcId,
    persona: spec.persona,
    model: spec.model,
    sampling: { temperature: s.temperature, topP: s.top_p, maxTokens: s.max_tokens, seed: s.seed },
    spec,
  };
}

/**
 * The prompt of a turn: who the NPC is, what it may propose and how (docs/actions.md), what it and
 * the player hold now, and the player's line. Its hash is recorded in provenance.
 */
export function buildPrompt(
  scenario: Scenario,
  npc: NpcConfig,
  world: WorldState,
  playerText: string,
): GenerationRequest {
  const player = scenario.world.characters[scenario.player]?.name ?? scenario.player;
  const facts = {
    you: world.inventories[npc.spec.character],
    player: world.inventories[scenario.player],
    flags: world.flags,
    quests: world.quests,
  };
  const actions =
    npc.spec.actions.length === 0
      ? 'You cannot change the world; only speak.'
      : `To change the world, after your spoken line write one line per action: ${ACTION_PREFIX} {"kind": ...} ` +
        `with kind one of ${npc.spec.actions.join(', ')}. Never describe actions in speech.`;
  const messages: ChatMessage[] = [
    {
      role: 'system',
      content: [
        `You are ${npc.name} in "${scenario.title}". ${npc.persona}`,
        `You are speaking with ${player}. Currency: ${scenario.world.currency.name}.`,
        actions,
        `World now: ${canonicalJson(facts)}`,
      ].join('\n'),
    },
    { role: 'user', content: playerText },
  ];
  return { messages, sampling: npc.sampling };
}
