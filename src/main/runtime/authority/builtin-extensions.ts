import type { Scenario } from '../../../shared/scenario';
import {
  RELATIONSHIP_MAX,
  RELATIONSHIP_MIN,
  type PatchOperation,
  type QuestStatus,
  type WorldState,
} from '../../../shared/world';
import { defineHandler, extensionOf, ProposalInvalid, type Extension } from './extensions';
import { pointer } from './world-state';

/**
 * The built-in extensions: inventory and trade, relationships, quests, flags. Each reads the state,
 * refuses proposals that cannot apply to this world, and answers with a patch whose `test`
 * operations pin every existing value it replaces or removes, so the patch cannot silently apply to
 * a different state. (A value it creates is an `add`; JSON Patch cannot test for absence, and
 * replay checks the whole state hash before each patch anyway.)
 */

/** The parts of an extension context the helpers below read. */
interface Where {
  readonly scenario: Scenario;
  readonly actor: string;
  readonly state: WorldState;
}

function requireCharacter(ctx: Where, id: string, role: string): void {
  if (!Object.hasOwn(ctx.scenario.world.characters, id))
    throw new ProposalInvalid(`${role} '${id}' is not a character of scenario '${ctx.scenario.id}'`);
  if (id === ctx.actor) throw new ProposalInvalid(`${role} '${id}' is the acting NPC itself`);
}

function requireItem(ctx: Where, id: string): void {
  if (!Object.hasOwn(ctx.scenario.world.items, id))
    throw new ProposalInvalid(`'${id}' is not an item of scenario '${ctx.scenario.id}'`);
}

function inventoryOf(state: WorldState, who: string): WorldState['inventories'][string] {
  const inv = state.inventories[who];
  if (inv === undefined) throw new Error(`world state has no inventory for '${who}'`);
  return inv;
}

/** Operations moving a count of an item between inventories. A count reaching 0 is removed. */
function itemDelta(state: WorldState, who: string, item: string, delta: number): PatchOperation[] {
  const held = inventoryOf(state, who).items[item];
  const path = pointer('inventories', who, 'items', item);
  if (held === undefined) return [{ op: 'add', path, value: delta }];
  const next = held + delta;
  return [
    { op: 'test', path, value: held },
    next === 0 ? { op: 'remove', path } : { op: 'replace', path, value: next },
  ];
}

function coinDelta(state: WorldState, who: string, delta: number): PatchOperation[] {
  const held = inventoryOf(state, who).coin;
  const path = pointer('inventories', who, 'coin');
  return [
    { op: 'test', path, value: held },
    { op: 'replace', path, value: held + delta },
  ];
}

export const inventoryExtension: Extension = extensionOf('inventory', [
  defineHandler('give_item', (ctx) => {
    const { item, to, count } = ctx.action;
    requireItem(ctx, item);
    requireCharacter(ctx, to, 'recipient');
    return [...itemDelta(ctx.state, ctx.actor, item, -count), ...itemDelta(ctx.state, to, item, count)];
  }),
  defineHandler('sell_item', (ctx) => {
    const { item, to, count, price } = ctx.action;
    requireItem(ctx, item);
    requireCharacter(ctx, to, 'buyer');
    return [
      ...itemDelta(ctx.state, ctx.actor, item, -count),
      ...itemDelta(ctx.state, to, item, count),
      ...coinDelta(ctx.state, to, -price),
      ...coinDelta(ctx.state, ctx.actor, price),
    ];
  }),
  defineHandler('give_coin', (ctx) => {
    const { to, amount } = ctx.action;
    requireCharacter(ctx, to, 'recipient');
    return [...coinDelta(ctx.state, ctx.actor, -amount), ...coinDelta(ctx.state, to, amount)];
  }),
]);

export const relationshipsExtension: Extension = extensionOf('relationships', [
  defineHandler('adjust_relationship', (ctx) => {
    const { toward, delta } = ctx.action;
    requireCharacter(ctx, toward, 'relationship target');
    const row = ctx.state.relationships[ctx.actor];
    const current = row?.[toward];
    // Scores saturate at the ends of the scale; the recorded patch shows the clamped value.
    const next = Math.min(RELATIONSHIP_MAX, Math.max(RELATIONSHIP_MIN, (current ?? 0) + delta));
    if (row === undefined)
      return [{ op: 'add', path: pointer('relationships', ctx.actor), value: { [toward]: next } }];
    const path = pointer('relationships', ctx.actor, toward);
    if (current === undefined) return [{ op: 'add', path, value: next }];
    return [
      { op: 'test', path, value: current },
      { op: 'replace', path, value: next },
    ];
  }),
]);

function questStatusChange(to: QuestStatus) {
  return (ctx: Where & { readonly action: { readonly quest: string } }): PatchOperation[] => {
    const { quest } = ctx.action;
    const current = ctx.state.quests[quest];
    if (current === undefined)
      throw new ProposalInvalid(`'${quest}' is not a quest of scenario '${ctx.scenario.id}'`);
    // Whether the transition is allowed is governance's call (rule quest-preconditions).
    const path = pointer('quests', quest, 'status');
    return [
      { op: 'test', path, value: current.status },
      { op: 'replace', path, value: to },
    ];
  };
}

export const questsExtension: Extension = extensionOf('quests', [
  defineHandler('start_quest', questStatusChange('active')),
  defineHandler('complete_quest', questStatusChange('completed')),
  defineHandler('fail_quest', questStatusChange('failed')),
]);

export const flagsExtension: Extension = extensionOf('flags', [
  defineHandler('set_flag', (ctx) => {
    const { flag, value } = ctx.action;
    if (!Object.hasOwn(ctx.state.flags, flag))
      throw new ProposalInvalid(`'${flag}' is not a flag of scenario '${ctx.scenario.id}'`);
    const path = pointer('flags', flag);
    return [
      { op: 'test', path, value: ctx.state.flags[flag] },
      { op: 'replace', path, value },
    ];
  }),
]);

export const BUILTIN_EXTENSIONS: readonly Extension[] = [
  inventoryExtension,
  relationshipsExtension,
  questsExtension,
  flagsExtension,
];
