/**
 * The scenario file format, version 1 (documented in scenarios/README.md): a world (characters,
 * items, currency, inventories, flags, relationships, quests) and the NPCs a player can talk to in
 * it. Shared so the renderer can show scenarios; reading files is the runtime's job.
 */
import { z } from 'zod';
import { ModelRef } from './common';
import {
  ActionKindSchema,
  FlagValue,
  Id,
  QuestStatus,
  RELATIONSHIP_MAX,
  RELATIONSHIP_MIN,
  type WorldState,
} from './world';

export const SCENARIO_FORMAT = 1 as const;

const Text = (max: number) => z.string().min(1).max(max);
const NonNegative = z.number().int().nonnegative();
const Score = z.number().int().min(RELATIONSHIP_MIN).max(RELATIONSHIP_MAX);

export const Character = z.strictObject({
  name: Text(100),
  description: z.string().max(2000).default(''),
});

export const Item = z.strictObject({
  name: Text(100),
  description: z.string().max(2000).default(''),
  /** Nominal value in coin, for designers; governance does not price trades. */
  value: NonNegative.default(0),
});

export const InventorySpec = z.strictObject({
  coin: NonNegative.default(0),
  items: z.record(Id, z.number().int().positive()).default({}),
});

/** Conditions on the world before the turn; all listed ones must hold. */
export const Conditions = z.strictObject({
  /** Flags that must have exactly these values. */
  flags: z.record(Id, FlagValue).default({}),
  /** Items the player must hold, with minimum counts. */
  player_items: z.record(Id, z.number().int().positive()).default({}),
  /** Quests that must be completed. */
  quests_completed: z.array(Id).default([]),
  /** Minimum relationship of the proposing NPC toward the player. */
  min_relationship: Score.optional(),
});
export type Conditions = z.infer<typeof Conditions>;

export const Quest = z.strictObject({
  title: Text(120),
  description: z.string().max(2000).default(''),
  /** Status when the scenario starts. */
  status: QuestStatus.default('available'),
  /** Must hold for `start_quest`. */
  requires: Conditions.default({ flags: {}, player_items: {}, quests_completed: [] }),
  /** Must hold for `complete_quest`. */
  completion: Conditions.default({ flags: {}, player_items: {}, quests_completed: [] }),
});

export const NpcGovernance = z.strictObject({
  /** Most actions one turn may propose. */
  max_actions_per_turn: z.number().int().nonnegative().max(100).default(3),
  /** Most coin the NPC may give away in one turn (give_coin). */
  max_coin_per_turn: NonNegative.default(20),
  /** Most relationship change toward any one character in one turn (absolute). */
  max_relationship_delta: z.number().int().nonnegative().max(200).default(10),
  /** Flags this NPC may set; empty means none. */
  writable_flags: z.array(Id).default([]),
});
export type NpcGovernance = z.infer<typeof NpcGovernance>;

export const NpcSampling = z.strictObject({
  temperature: z.number().min(0).max(5).default(0.7),
  top_p: z.number().gt(0).max(1).default(0.95),
  max_tokens: z.number().int().positive().max(8192).default(256),
  seed: z.number().int().nonnegative().default(1),
});

export const Npc = z.strictObject({
  /** The character this NPC plays (a key of world.characters). */
  character: Id,
  /** How the NPC speaks and behaves: given to the model as its system prompt. */
  persona: Text(4000),
  model: ModelRef,
  sampling: NpcSampling.default({ temperature: 0.7, top_p: 0.95, max_tokens: 256, seed: 1 }),
  /** Action kinds this NPC may propose; others fail governance (`allowed-actions`). */
  actions: z.array(ActionKindSchema).default([]),
  governance: NpcGovernance.default({
    max_actions_per_turn: 3,
    max_coin_per_turn: 20,
    max_relationship_delta: 10,
    writable_flags: [],
  }),
});
export type Npc = z.infer<typeof Npc>;

/** A reply of a scripted model: said when the player's line contains any of `when`. */
export const ScriptedReply = z.strictObject({
  /** Lowercase keywords; the first reply with a keyword in the player's (lowercased) line is said. */
  when: z.array(Text(100)).min(1),
  say: Text(4000),
  /** Written after the line as action lines, exactly as a model would. Not validated here. */
  actions: z.array(z.record(z.string(), z.unknown())).default([]),
});

/** A deterministic stand-in model (backend `scripted`): NOT a language model. */
export const ScriptedModel = z.strictObject({
  replies: z.array(ScriptedReply).default([]),
  /** Said when no reply matches, chosen by a hash of the player's line. */
  fallback: z.array(Text(4000)).min(1),
});
export type ScriptedModel = z.infer<typeof ScriptedModel>;

/** A fact of the world the lore agent checks replies against. */
export const LoreFact = z.strictObject({
  id: Id,
  fact: Text(500),
  /** Lowercase words that make a player line about this fact (raises the lore scan's relevance). */
  keywords: z.array(Text(60)).max(20).default([]),
  /** Lowercase phrases that, said in a reply, contradict the fact. */
  contradicted_by: z.array(Text(200)).max(20).default([]),
});
export type LoreFact = z.infer<typeof LoreFact>;

/** What the safety agent (critical) blocks when agent streams run in PILOT mode. */
export const SafetySpec = z.strictObject({
  /** Lowercase phrases an NPC line must not contain. */
  blocked_phrases: z.array(Text(200)).max(100).default([]),
  /** Items an NPC must not give or sell. */
  restricted_items: z.array(Id).max(100).default([]),
});
export type SafetySpec = z.infer<typeof SafetySpec>;

const ScenarioShape = z.strictObject({
  /** Path or URL of the JSON Schema, for editors. Ignored by Parley. */
  $schema: z.string().optional(),
  format: z.literal(SCENARIO_FORMAT),
  id: Id,
  title: Text(120),
  description: z.string().max(4000).default(''),
  /** Character id of the player. */
  player: Id,
  world: z.strictObject({
    currency: z.strictObject({ name: Text(40) }),
    characters: z.record(Id, Character),
    items: z.record(Id, Item).default({}),
    /** Character id → starting inventory; characters not listed start with nothing. */
    inventories: z.record(Id, InventorySpec).default({}),
    flags: z.record(Id, FlagValue).default({}),
    /** From character → toward character → starting score; unlisted pairs start at 0. */
    relationships: z.record(Id, z.record(Id, Score)).default({}),
    quests: z.record(Id, Quest).default({}),
  }),
  npcs: z.record(Id, Npc),
  default_npc: Id,
  /** Scripts for NPCs whose model backend is `scripted`, by model id. */
  scripted_models: z.record(z.string(), ScriptedModel).default({}),
  /** Facts the lore agent checks replies against. */
  lore: z.array(LoreFact).max(200).default([]),
  safety: SafetySpec.default({ blocked_phrases: [], restricted_items: [] }),
});

type ScenarioShape = z.infer<typeof ScenarioShape>;

/** Every reference inside a scenario must resolve; each broken one is reported at its path. */
function checkReferences(s: ScenarioShape, ctx: z.RefinementCtx): void {
  const { characters, items, quests, flags } = s.world;
  const issue = (path: PropertyKey[], message: string) => {
    ctx.addIssue({ code: 'custom', path, message });
  };
  const known = (kind: string, table: Record<string, unknown>, id: string, path: PropertyKey[]) => {
    if (!Object.hasOwn(table, id))
      issue(path, `unknown ${kind} '${id}'; known: ${Object.keys(table).join(', ') || '(none)'}`);
  };
  known('character', characters, s.player, ['player']);
  for (const [who, inv] of Object.entries(s.world.inventories)) {
    known('character', characters, who, ['world', 'inventories', who]);
    for (const item of Object.keys(inv.items))
      known('item', items, item, ['world', 'inventories', who, 'items', item]);
  }
  for (const [from, row] of Object.entries(s.world.relationships)) {
    known('character', characters, from, ['world', 'relationships', from]);
    for (const to of Object.keys(row))
      known('character', characters, to, ['world', 'relationships', from, to]);
  }
  for (const [id, quest] of Object.entries(s.world.quests))
    for (const key of ['requires', 'completion'] as const) {
      const c = quest[key];
      for (const flag of Object.keys(c.flags))
        known('flag', flags, flag, ['world', 'quests', id, key, 'flags', flag]);
      for (const item of Object.keys(c.player_items))
        known('item', items, item, ['world', 'quests', id, key, 'player_items', item]);
      c.quests_completed.forEach((q, i) => {
        known('quest', quests, q, ['world', 'quests', id, key, 'quests_completed', i]);
      });
    }
  for (const [id, npc] of Object.entries(s.npcs)) {
    known('character', characters, npc.character, ['npcs', id, 'character']);
    if (npc.character === s.player) issue(['npcs', id, 'character'], 'an NPC cannot play the player');
    npc.governance.writable_flags.forEach((f, i) => {
      known('flag', flags, f, ['npcs', id, 'governance', 'writable_flags', i]);
    });
    if (npc.model.backend === 'scripted')
      known('scripted model', s.scripted_models, npc.model.model_id, ['npcs', id, 'model', 'model_id']);
  }
  known('NPC', s.npcs, s.default_npc, ['default_npc']);
  s.safety.restricted_items.forEach((item, i) => {
    known('item', items, item, ['safety', 'restricted_items', i]);
  });
  const loreIds = new Set<string>();
  s.lore.forEach((fact, i) => {
    if (loreIds.has(fact.id)) issue(['lore', i, 'id'], `duplicate lore id '${fact.id}'`);
    loreIds.add(fact.id);
  });
}

export const Scenario = ScenarioShape.superRefine(checkReferences);
export type Scenario = z.infer<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;

/** The world a scenario starts in: every character has an inventory, every quest a status. */
export function initialWorldState(s: Scenario): WorldState {
  const inventories: WorldState['inventories'] = {};
  for (const id of Object.keys(s.world.characters)) {
    const spec = s.world.inventories[id];
    inventories[id] = { coin: spec?.coin ?? 0, items: { ...spec?.items } };
  }
  const relationships: WorldState['relationships'] = {};
  for (const [from, row] of Object.entries(s.world.relationships)) relationships[from] = { ...row };
  const quests: WorldState['quests'] = {};
  for (const [id, q] of Object.entries(s.world.quests)) quests[id] = { status: q.status };
  return { inventories, flags: { ...s.world.flags }, relationships, quests };
}

/** What clients see of a scenario: enough to pick one and an NPC, and to label world state. */
export const ScenarioSummary = z.object({
  scenario_id: z.string(),
  title: z.string(),
  description: z.string(),
  content_hash: z.string(),
  default_npc: z.string(),
  player: z.string(),
  currency: z.string(),
  npcs: z.array(
    z.object({
      npc_id: z.string(),
      name: z.string(),
      model: ModelRef,
      actions: z.array(ActionKindSchema),
    }),
  ),
  characters: z.record(z.string(), z.object({ name: z.string() })),
  items: z.record(z.string(), z.object({ name: z.string() })),
  quests: z.record(z.string(), z.object({ title: z.string() })),
});
export type ScenarioSummary = z.infer<typeof ScenarioSummary>;
