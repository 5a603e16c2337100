/**
 * The synthetic NPC dialogue the embedded model is trained on: varied world states of the
 * wayside-inn scenario, player lines, and in-character replies with the ACTION lines the NPC should
 * propose in that world (docs/actions.md). Pure and seeded: the same seed gives the same dialogues.
 *
 * Every reply is written to commit: it only sells what the NPC holds to a player who can pay, only
 * moves quests whose conditions hold, and stays inside the NPC's kinds and per-turn limits. The
 * corpus script checks that with the runtime's own commit decision (`prepareCommit`), so a rule
 * here that drifts from governance fails the build of the corpus, not the player's turn.
 *
 * Lines are original; the scenario's scripted replies were only a guide to the NPCs' voices.
 */
import { BUILTIN_EXTENSIONS } from '../src/main/runtime/authority/builtin-extensions';
import { BUILTIN_SCENARIOS } from '../src/main/runtime/authority/builtin-scenarios';
import { prepareCommit } from '../src/main/runtime/authority/commit';
import { ExtensionManager } from '../src/main/runtime/authority/extensions';
import { systemClock } from '../src/main/runtime/core/clock';
import { buildPrompt, npcConfig } from '../src/main/runtime/interaction/npc';
import type { ChatMessage } from '../src/main/runtime/models/backend';
import { ACTION_PREFIX, parseModelOutput } from '../src/shared/proposals';
import type { Scenario } from '../src/shared/scenario';
import { initialWorldState } from '../src/shared/scenario';
import { Action, type ActionInput, type QuestStatus, type WorldState } from '../src/shared/world';

const loaded = BUILTIN_SCENARIOS.find((s) => s.scenario.id === 'wayside-inn');
if (loaded === undefined) throw new Error('the built-in wayside-inn scenario is missing');
/** The scenario every dialogue is set in. */
export const SCENARIO: Scenario = loaded.scenario;

export type NpcId = 'mira' | 'wren';
export const NPC_IDS: readonly NpcId[] = ['mira', 'wren'];

/** One player line and the reply the NPC should give to it in `world`. */
export interface Turn {
  readonly intent: string;
  readonly player: string;
  /** The spoken part. */
  readonly say: string;
  readonly actions: readonly ActionInput[];
}

/** Turns that share an NPC and a world state, hence a prompt prefix. */
export interface DialogueGroup {
  readonly npc: NpcId;
  readonly world: WorldState;
  readonly turns: readonly Turn[];
}

/** The model's whole reply: the spoken part, then one action line per action. */
export function replyText(turn: Pick<Turn, 'say' | 'actions'>): string {
  return [turn.say, ...turn.actions.map((a) => `${ACTION_PREFIX} ${JSON.stringify(a)}`)].join('\n');
}

/** The messages of a turn, exactly as the runtime builds them. */
export function turnMessages(npc: NpcId, world: WorldState, player: string): readonly ChatMessage[] {
  return buildPrompt(SCENARIO, npcConfig(SCENARIO, npc), world, player).messages;
}

const extensions = new ExtensionManager(BUILTIN_EXTENSIONS, { clock: systemClock });

/**
 * Why `reply` would not commit in `world` (a proposal error, an extension refusing an action, a
 * governance rule failing), or null when it would: the runtime's own decision, `prepareCommit`.
 */
export async function commitFailure(npc: NpcId, world: WorldState, reply: string): Promise<string | null> {
  const output = parseModelOutput(reply);
  if (output.errors.length > 0)
    return `proposal errors: ${output.errors.map((e) => `line ${e.line}: ${e.message}`).join('; ')}`;
  const spec = SCENARIO.npcs[npc];
  if (spec === undefined) throw new Error(`no NPC ${npc}`);
  const prepared = await prepareCommit(extensions, {
    scenario: SCENARIO,
    npcId: npc,
    npc: spec,
    before: world,
    output,
    envelopes: [],
  });
  return prepared.failure?.message ?? null;
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** mulberry32: small, fast and the same everywhere. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** A key of `weights`, with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    let r = this.next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [key, w] of entries) {
      r -= w;
      if (r < 0) return key;
    }
    return (entries[entries.length - 1] as [K, number])[0];
  }
}

// ---------------------------------------------------------------------------------------------
// Words

const NUMBER_WORDS = [
  'no',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
];

/** A count as a word up to twelve, digits above. */
function num(n: number): string {
  return NUMBER_WORDS[n] ?? String(n);
}

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Fills `{slot}` placeholders. */
function fill(template: string, slots: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => {
    const v = slots[key];
    if (v === undefined) throw new Error(`no slot '${key}' for '${template}'`);
    return String(v);
  });
}

/** The names a player uses for an item, singular and plural. */
const ITEM_WORDS: Record<string, { one: readonly string[]; many: readonly string[] }> = {
  room_key: { one: ['a room', 'a bed', 'a room for the night', 'a bed for the night'], many: ['rooms'] },
  stew: { one: ['a bowl of stew', 'some stew', 'stew', 'a bowl of your stew'], many: ['bowls of stew'] },
  ale: { one: ['an ale', 'a mug of ale', 'a pint', 'an ale, please'], many: ['mugs of ale', 'ales'] },
  candle: { one: ['a candle', 'a tallow candle', 'a light for upstairs'], many: ['candles'] },
  river_map: { one: ['your river map', 'the river map', 'a map of the river road', 'the map'], many: [] },
  nightshade: { one: ['some nightshade', 'the nightshade', 'a bit of rat poison', 'that poison'], many: [] },
  oats: { one: ['a sack of oats', 'some oats', 'oats for my horse'], many: ['sacks of oats'] },
  lucky_horseshoe: { one: ['your lucky horseshoe', 'that horseshoe', 'the lucky horseshoe'], many: [] },
  horseshoe_nails: { one: ['some horseshoe nails', 'a few nails'], many: [] },
};

/** What the NPC calls an item in its own reply. */
const ITEM_SAID: Record<string, { one: string; many: string }> = {
  room_key: { one: 'a room', many: 'rooms' },
  stew: { one: 'a bowl of stew', many: 'bowls of stew' },
  ale: { one: 'a mug of ale', many: 'mugs of ale' },
  candle: { one: 'a candle', many: 'candles' },
  river_map: { one: 'the map', many: 'maps' },
};

/** Mira's prices, per item. The map is for people she trusts only. */
const MIRA_PRICE: Record<string, number> = { room_key: 4, stew: 1, ale: 1, candle: 1, river_map: 6 };

const STEWS = [
  'mutton and barley',
  'leek and potato',
  'beef and onion',
  'pea and ham',
  'rabbit and turnip',
  'chicken and leek',
  'lentil and carrot',
  'pork and apple',
];

const PLAYER_ITEMS = ['walking_staff', 'room_key', 'stew', 'ale', 'candle', 'oats', 'horseshoe_nails'];

const OFF_TOPIC_THINGS = [
  'dragons',
  'the king',
  'the stars',
  'wizards',
  'the sea',
  'the war in the south',
  'ghosts',
  'the capital',
  'elves',
  'a flying ship',
];

const UNKNOWN_WARES = [
  'a sword',
  'a horse',
  'a boat',
  'a fiddle',
  'a new cloak',
  'a pair of boots',
  'a lantern',
  'wine',
];

// ---------------------------------------------------------------------------------------------
// World states

/** A random but consistent world: quest statuses agree with flags, inventories are plausible. */
export function randomWorld(rng: Rng): WorldState {
  const w = initialWorldState(SCENARIO);
  const inv = (who: string) => {
    const i = w.inventories[who];
    if (i === undefined) throw new Error(`no inventory for ${who}`);
    return i;
  };
  const player = inv('player');
  const mira = inv('mira');
  const wren = inv('wren');
  const band = rng.weighted({ poor: 18, low: 20, usual: 40, rich: 22 });
  player.coin = { poor: rng.int(0, 3), low: rng.int(4, 7), usual: rng.int(8, 14), rich: rng.int(15, 40) }[
    band
  ];
  player.items = {};
  if (rng.chance(0.8)) player.items.walking_staff = 1;
  for (const item of PLAYER_ITEMS.slice(1)) if (rng.chance(0.15)) player.items[item] = rng.int(1, 3);

  const stock = (max: number, pEmpty: number): number => (rng.chance(pEmpty) ? 0 : rng.int(1, max));
  mira.coin = rng.int(20, 90);
  mira.items = {};
  const miraStock: Record<string, number> = {
    room_key: stock(3, 0.15),
    stew: stock(12, 0.12),
    ale: stock(24, 0.1),
    candle: stock(6, 0.2),
    nightshade: stock(2, 0.3),
  };
  for (const [item, n] of Object.entries(miraStock)) if (n > 0) mira.items[item] = n;

  wren.coin = rng.int(0, 5);
  wren.items = {};
  const wrenStock: Record<string, number> = {
    oats: stock(5, 0.2),
    horseshoe_nails: stock(10, 0.15),
    lucky_horseshoe: rng.chance(0.8) ? 1 : 0,
  };
  for (const [item, n] of Object.entries(wrenStock)) if (n > 0) wren.items[item] = n;
  if (wren.items.lucky_horseshoe === undefined && rng.chance(0.5)) player.items.lucky_horseshoe = 1;

  // The rat quest and the cellar flags.
  const rat = rng.weighted({ available: 35, active: 22, activeCleared: 18, completed: 20, failed: 5 });
  const ratStatus = rat === 'activeCleared' ? 'active' : rat;
  const cleared = rat === 'activeCleared' || rat === 'completed';
  w.quests.rat_trouble = { status: ratStatus };
  w.flags.cellar_cleared = cleared;
  w.flags.rats_in_cellar = !cleared;
  const miraToPlayer = rat === 'completed' ? rng.int(15, 45) : rng.int(-10, 14);
  w.relationships.mira = { ...w.relationships.mira, player: miraToPlayer };

  // The map, the north road and the bridge (only someone Mira trusts gets the map or the road).
  const mapSold = rat === 'completed' && rng.chance(0.4);
  if (mapSold) player.items.river_map = 1;
  else if (rng.chance(0.9)) mira.items.river_map = 1;
  let north: QuestStatus = 'available';
  if (mapSold) north = rng.weighted({ available: 40, active: 40, completed: 20 });
  w.quests.north_road = { status: north };
  w.flags.bridge_out = north !== 'completed';

  // The mare.
  const mare = rng.weighted({ available: 40, active: 20, activeShod: 15, completed: 20, failed: 5 });
  w.quests.lame_mare = { status: mare === 'activeShod' ? 'active' : mare };
  w.flags.mare_shod = mare === 'activeShod' || mare === 'completed';
  w.relationships.wren = {
    ...w.relationships.wren,
    player: mare === 'completed' ? rng.int(10, 40) : rng.int(-5, 10),
  };
  if (mare === 'completed' && rng.chance(0.7)) {
    delete wren.items.lucky_horseshoe;
    player.items.lucky_horseshoe = 1;
  }

  w.flags.stew_of_the_day = rng.chance(0.4) ? 'mutton and barley' : rng.pick(STEWS);
  w.flags.days_of_rain = rng.int(1, 9);
  return w;
}

// ---------------------------------------------------------------------------------------------
// Player lines

/** Varies a player line the way people type: case, punctuation, a name or a "please". */
function roughen(rng: Rng, line: string, npc: NpcId): string {
  let out = line;
  if (rng.chance(0.15)) {
    const name = npc === 'mira' ? rng.pick(['Mira', 'Innkeeper', 'Mistress Thornbury', 'Landlady']) : 'Wren';
    out = `${name}, ${out.charAt(0).toLowerCase()}${out.slice(1)}`;
  } else if (rng.chance(0.12)) out = `${rng.pick(['Excuse me.', 'Hey.', 'Um.', 'Right.', 'Listen.'])} ${out}`;
  if (rng.chance(0.15)) out = out.replace(/[.!?]$/, '');
  if (rng.chance(0.12)) out = out.toLowerCase();
  return out;
}

/** A player's phrasing of buying `count` of `item`. */
function buyLine(rng: Rng, item: string, count: number): string {
  const words = ITEM_WORDS[item];
  if (words === undefined) throw new Error(`no words for ${item}`);
  const thing =
    count === 1 || words.many.length === 0 ? rng.pick(words.one) : `${num(count)} ${rng.pick(words.many)}`;
  return fill(
    rng.pick([
      "I'd like {thing}.",
      'Can I get {thing}?',
      'I want to buy {thing}.',
      "I'll take {thing}.",
      'Could I have {thing}, please?',
      'Sell me {thing}.',
      'How about {thing}? I can pay.',
      "I'll buy {thing} if you have it.",
      '{Thing}, please.',
      'Give me {thing}, I will pay.',
    ]),
    { thing, Thing: cap(thing) },
  );
}

// ---------------------------------------------------------------------------------------------
// Replies

interface Reply {
  readonly say: string;
  readonly actions?: readonly ActionInput[];
}

interface Context {
  readonly rng: Rng;
  readonly world: WorldState;
  readonly npc: NpcId;
}

function held(world: WorldState, who: string, item: string): number {
  return world.inventories[who]?.items[item] ?? 0;
}

function coin(world: WorldState, who: string): number {
  return world.inventories[who]?.coin ?? 0;
}

function quest(world: WorldState, id: string): string {
  return world.quests[id]?.status ?? 'locked';
}

function flag(world: WorldState, id: string): unknown {
  return world.flags[id];
}

const sell = (item: string, count: number, price: number): ActionInput => ({
  kind: 'sell_item',
  item,
  to: 'player',
  count,
  price,
});
const give = (item: string, count = 1): ActionInput => ({ kind: 'give_item', item, to: 'player', count });
const feel = (delta: number): ActionInput => ({ kind: 'adjust_relationship', toward: 'player', delta });

const stewToday = (c: Context): string => {
  const v = flag(c.world, 'stew_of_the_day');
  return typeof v === 'string' ? v : 'mutton and barley';
};

const rainDays = (c: Context): number => {
  const v = flag(c.world, 'days_of_rain');
  return typeof v === 'number' ? v : 3;
};

const trusted = (c: Context): boolean => quest(c.world, 'rat_trouble') === 'completed';

/** Mira refusing a sale the player cannot pay for. */
function cannotPay(c: Context, price: number): string {
  const have = coin(c.world, 'player');
  const priceText = `${cap(num(price))} silver`;
  if (have === 0)
    return c.rng.pick([
      `${priceText}, and you've not a coin on you. Nothing on credit.`,
      `Your purse is empty, traveller. ${priceText}, paid first.`,
      `You've no silver at all. I don't give credit.`,
    ]);
  return c.rng.pick([
    `That's ${num(price)} silver and you've only ${num(have)}. Come back when your purse is heavier.`,
    `${priceText}, and you have ${num(have)}. I don't give credit.`,
    `You're short, traveller: ${num(price)} silver wanted, ${num(have)} in your purse.`,
  ]);
}

/** Mira out of something. */
function soldOut(c: Context, item: string): string {
  const lines: Record<string, readonly string[]> = {
    room_key: [
      'Every room is taken tonight. There is a bench by the fire, if you want it.',
      "No rooms left; the flood's filled the house. Try the hearth bench.",
      "I'm full up. Not a bed to be had until the bridge is mended.",
    ],
    stew: [
      "The pot's scraped clean. There'll be more in the morning.",
      'No stew left tonight, I am sorry to say.',
      "Stew's all gone. The coachmen ate like wolves.",
    ],
    ale: ['The barrel is dry until the brewer gets across the river.', 'No ale left. Not a drop.'],
    candle: ['Out of candles. Sit near the fire.', 'No candles left, I am afraid.'],
    river_map: ['The map is gone; I only ever had the one.', "I've no map to sell any more. It's gone."],
  };
  return c.rng.pick(lines[item] ?? ['I have none of that.']);
}

/** Mira selling `count` of `item`, or saying why not. */
function miraSale(c: Context, item: string, count: number): Reply {
  const unit = MIRA_PRICE[item];
  if (unit === undefined) throw new Error(`Mira does not sell ${item}`);
  const price = unit * count;
  const stock = held(c.world, 'mira', item);
  if (item === 'river_map') {
    if (held(c.world, 'player', 'river_map') > 0)
      return {
        say: c.rng.pick(["You've already got my map. Mind you don't lose it.", 'You have the map already.']),
      };
    if (stock === 0) return { say: soldOut(c, item) };
    if (!trusted(c))
      return {
        say: c.rng.pick([
          'That map is for people I trust, and I hardly know you. Help me with the rats first.',
          'Not to a stranger. Earn my trust and we will talk about the map.',
          'The map stays behind the bar until I know you better. Clear my cellar and ask again.',
        ]),
      };
  }
  if (stock === 0) return { say: soldOut(c, item) };
  if (stock < count)
    return {
      say: `I've only ${num(stock)} ${stock === 1 ? (ITEM_SAID[item]?.one ?? item).replace(/^an? /, '') : (ITEM_SAID[item]?.many ?? item)} left. Ask for fewer.`,
    };
  if (coin(c.world, 'player') < price) return { say: cannotPay(c, price) };
  const p = num(price);
  const says: Record<string, readonly string[]> = {
    room_key:
      count === 1
        ? [
            'Four silver a night. Here is your key; top of the stairs, second door.',
            'A room it is. Four silver, and the key is yours. Mind the third step, it creaks.',
            "Four silver. The room over the kitchen is warmest; here's the key.",
            'That will be four silver. Breakfast is not included.',
          ]
        : [
            `${cap(num(count))} rooms, ${p} silver. Here are the keys.`,
            `That's ${p} silver for ${num(count)} rooms. Keys are on the tags.`,
          ],
    stew:
      count === 1
        ? [
            `It's ${stewToday(c)} tonight. One silver a bowl.`,
            `One silver. ${cap(stewToday(c))}, hot from the pot.`,
            `Sit down, then. A bowl of ${stewToday(c)}, one silver.`,
          ]
        : [
            `${cap(num(count))} bowls of ${stewToday(c)}, ${p} silver.`,
            `That's ${p} silver for ${num(count)} bowls. Eat while it's hot.`,
          ],
    ale:
      count === 1
        ? ['One silver a mug. Here you are.', 'An ale, one silver. It is better than it looks.']
        : [`${cap(num(count))} mugs, ${p} silver.`, `That's ${p} silver for ${num(count)} ales.`],
    candle:
      count === 1
        ? ['One silver for a candle. Do not leave it burning.', 'A candle, one silver. Mind the curtains.']
        : [`${cap(num(count))} candles, ${p} silver.`],
    river_map: [
      'My river map, with every ford marked in red. Six silver, and do not lose it.',
      'Six silver. Follow the red ink and keep your boots dry.',
      'Since it is you, six silver. That map has kept many a traveller out of the river.',
    ],
  };
  return { say: c.rng.pick(says[item] ?? ['Here.']), actions: [sell(item, count, price)] };
}

/** A reply and the player line that asks for it. */
interface Exchange {
  readonly player: string;
  readonly reply: Reply;
}

type Intent = (c: Context) => Exchange;

function buyIntent(item: string, counts: readonly number[]): Intent {
  return (c) => {
    const count = c.rng.pick(counts);
    return { player: buyLine(c.rng, item, count), reply: miraSale(c, item, count) };
  };
}

const MIRA: Record<string, { weight: number; run: Intent }> = {
  buy_room: { weight: 10, run: buyIntent('room_key', [1, 1, 1, 1, 1, 2]) },
  buy_stew: { weight: 10, run: buyIntent('stew', [1, 1, 1, 1, 2, 3]) },
  buy_ale: { weight: 6, run: buyIntent('ale', [1, 1, 1, 2, 3]) },
  buy_candle: { weight: 3, run: buyIntent('candle', [1, 1, 2]) },
  buy_map: { weight: 7, run: buyIntent('river_map', [1]) },
  buy_room_and_stew: {
    weight: 5,
    run: (c) => {
      const second = c.rng.pick(['stew', 'ale']);
      const player = c.rng.pick([
        `A room and ${second === 'stew' ? 'a bowl of stew' : 'an ale'}, please.`,
        `I need a bed for the night and ${second === 'stew' ? 'something hot to eat' : 'a drink'}.`,
        `Room for the night, and ${second === 'stew' ? 'some of your stew' : 'a mug of ale'}.`,
      ]);
      const total = 4 + 1;
      for (const item of ['room_key', second])
        if (held(c.world, 'mira', item) === 0) return { player, reply: { say: soldOut(c, item) } };
      if (coin(c.world, 'player') < total) return { player, reply: { say: cannotPay(c, total) } };
      return {
        player,
        reply: {
          say: c.rng.pick([
            `Five silver for the both. Key's on the tag; the ${second === 'stew' ? 'stew' : 'ale'} is coming.`,
            'Four for the room, one for the ' + (second === 'stew' ? 'stew' : 'ale') + '. Five silver.',
          ]),
          actions: [sell('room_key', 1, 4), sell(second, 1, 1)],
        },
      };
    },
  },
  buy_nightshade: {
    weight: 3,
    run: (c) => ({
      player: c.rng.pick([
        ...(ITEM_WORDS.nightshade?.one ?? []).map((t) => `Sell me ${t}.`),
        'What are those berries behind the bar? I want some.',
        'I need poison. For the rats, of course.',
      ]),
      reply: {
        say: c.rng.pick([
          'That is for the rats and it is not for sale. Not to you, not to anyone.',
          'No. The nightshade stays behind the bar.',
          "I don't sell poison to strangers, nor to friends.",
        ]),
      },
    }),
  },
  ask_price: {
    weight: 6,
    run: (c) => {
      const item = c.rng.pick(['room_key', 'stew', 'ale', 'river_map', 'candle']);
      const thing = {
        room_key: 'a room',
        stew: 'the stew',
        ale: 'an ale',
        river_map: 'the map',
        candle: 'a candle',
      }[item] as string;
      const player = c.rng.pick([
        `How much for ${thing}?`,
        `What does ${thing} cost?`,
        `What's the price of ${thing}?`,
        `How much is ${thing} here?`,
      ]);
      const say = {
        room_key: ['Four silver a night.', 'Rooms are four silver a night, paid before you sleep.'],
        stew: [`A silver a bowl. It's ${stewToday(c)} tonight.`, 'One silver a bowl.'],
        ale: ['One silver a mug.', 'A silver for ale. Cheaper than the river water and safer.'],
        candle: ['One silver a candle.'],
        river_map: [
          'Six silver, and only to people I trust.',
          'The map is six silver. I do not sell it to strangers.',
        ],
      }[item] as readonly string[];
      return { player, reply: { say: c.rng.pick(say) } };
    },
  },
  ask_menu: {
    weight: 5,
    run: (c) => {
      const player = c.rng.pick([
        'What do you sell?',
        'What have you got?',
        'What can I buy here?',
        'What is on offer tonight?',
        'Anything to eat or drink?',
      ]);
      const parts: string[] = [];
      if (held(c.world, 'mira', 'room_key') > 0) parts.push('rooms at four silver');
      if (held(c.world, 'mira', 'stew') > 0) parts.push(`${stewToday(c)} stew at one`);
      if (held(c.world, 'mira', 'ale') > 0) parts.push('ale at one');
      if (held(c.world, 'mira', 'candle') > 0) parts.push('candles at one');
      const say =
        parts.length === 0
          ? "Tonight? Nothing. I'm sold out of everything."
          : `${cap(parts.join(', '))}.${trusted(c) && held(c.world, 'mira', 'river_map') > 0 ? ' And my river map for six, since it is you.' : ''}`;
      return { player, reply: { say } };
    },
  },
  haggle: {
    weight: 3,
    run: (c) => {
      const [thing, price] = c.rng.pick([
        ['the room', 4],
        ['the map', 6],
        ['two rooms', 8],
      ] as const);
      const offer = price - c.rng.int(1, 2);
      return {
        player: c.rng.pick([
          `Would you take ${num(offer)} silver for ${thing}?`,
          `${cap(num(offer))} silver for ${thing}, and that's my final offer.`,
          `Come on, ${num(offer)} silver for ${thing}. Be kind.`,
        ]),
        reply: {
          say: c.rng.pick([
            `I don't haggle. ${cap(num(price))} silver or nothing.`,
            `${cap(num(price))} silver. The price is the price.`,
            'No haggling under my roof. You heard the price.',
          ]),
        },
      };
    },
  },
  sell_to_mira: {
    weight: 3,
    run: (c) => {
      const mine = Object.keys(c.world.inventories.player?.items ?? {});
      const item = mine.length > 0 ? c.rng.pick(mine) : 'walking_staff';
      const name = SCENARIO.world.items[item]?.name.toLowerCase() ?? item;
      return {
        player: c.rng.pick([
          `Would you buy my ${name}?`,
          `I'll sell you my ${name} for a few silver.`,
          `What will you give me for this ${name}?`,
        ]),
        reply: {
          say: c.rng.pick([
            `I sell, I don't buy. Keep your ${name}.`,
            `I've no use for a ${name}. I'm an innkeeper, not a pawnbroker.`,
            'I do not buy from guests. Try a market, when the bridge is mended.',
          ]),
        },
      };
    },
  },
  unknown_ware: {
    weight: 3,
    run: (c) => {
      const thing = c.rng.pick(UNKNOWN_WARES);
      return {
        player: c.rng.pick([`Do you sell ${thing}?`, `I need ${thing}.`, `Can I buy ${thing} here?`]),
        reply: {
          say: c.rng.pick([
            `I've no ${thing.replace(/^an? /, '')} to sell. Rooms, stew and ale, that is all.`,
            `Not here. This is an inn, not a market.`,
          ]),
        },
      };
    },
  },
  rats_work: {
    weight: 6,
    run: (c) => {
      const player = c.rng.pick([
        'Do you have any work for me?',
        'I need to earn some silver. Any jobs?',
        'Is there anything I can help with?',
        'I heard you have a rat problem.',
        "What's wrong with your cellar?",
        'Any work going?',
      ]);
      const status = quest(c.world, 'rat_trouble');
      const cleared = flag(c.world, 'cellar_cleared') === true;
      if (status === 'available')
        return {
          player,
          reply: {
            say: c.rng.pick([
              "There's rats in my cellar and they're into the flour. Clear them out and there's ten silver in it.",
              'Rats. Down in the cellar, fat as cats. Get rid of them and I will pay you ten silver.',
              'The cellar is crawling with rats. Clear it, and ten silver is yours.',
            ]),
            actions: [{ kind: 'start_quest', quest: 'rat_trouble' }],
          },
        };
      if (status === 'active' && !cleared)
        return {
          player,
          reply: {
            say: c.rng.pick([
              'The rats are still down there. The cellar stairs are behind the kitchen.',
              'You already have the job: my cellar, my rats. Off you go.',
            ]),
          },
        };
      if (status === 'active' && cleared) return { player, reply: paidForRats(c) };
      if (status === 'completed')
        return {
          player,
          reply: {
            say: c.rng.pick([
              'Not tonight. The cellar is clean, thanks to you.',
              'No more work, I am afraid. You did the rats already.',
            ]),
          },
        };
      return {
        player,
        reply: {
          say: c.rng.pick([
            'You gave that job up. I have sent for a cat.',
            'No. You left my rats to it once already.',
          ]),
        },
      };
    },
  },
  report_cleared: {
    weight: 5,
    run: (c) => {
      const player = c.rng.pick([
        'The rats are gone.',
        "I've cleared your cellar.",
        'Your cellar is clear. Not a rat left.',
        'Done. I killed the rats in the cellar.',
        'The cellar is rat free now.',
      ]);
      const status = quest(c.world, 'rat_trouble');
      const cleared = flag(c.world, 'cellar_cleared') === true;
      if (status === 'active' && !cleared)
        return {
          player,
          reply: {
            say: c.rng.pick([
              'Gone? Let me look... not a whisker. Well done. Ask me for your pay.',
              'Truly? Then the flour is safe at last. Good work, traveller.',
              "Not a rat left? I'll believe you. That's a weight off my mind.",
            ]),
            actions: [
              { kind: 'set_flag', flag: 'cellar_cleared', value: true },
              { kind: 'set_flag', flag: 'rats_in_cellar', value: false },
              feel(5),
            ],
          },
        };
      if (status === 'active' && cleared) return { player, reply: paidForRats(c) };
      if (status === 'available')
        return {
          player,
          reply: {
            say: "Cleared? The rats are still down there, I can hear them. But if you want the job, it's yours. Ten silver.",
            actions: [{ kind: 'start_quest', quest: 'rat_trouble' }],
          },
        };
      if (status === 'completed') return { player, reply: { say: 'I know. You were paid for it already.' } };
      return { player, reply: { say: 'You gave that job up, and the cat has done it since.' } };
    },
  },
  ask_reward: {
    weight: 5,
    run: (c) => {
      const player = c.rng.pick([
        "Where's my reward?",
        'I would like my payment now.',
        'You owe me ten silver.',
        'Pay me for the rats.',
        'About my reward...',
      ]);
      const status = quest(c.world, 'rat_trouble');
      const cleared = flag(c.world, 'cellar_cleared') === true;
      if (status === 'active' && cleared) return { player, reply: paidForRats(c) };
      if (status === 'active')
        return {
          player,
          reply: { say: c.rng.pick(['Rats first, silver after.', 'When the cellar is clear, not before.']) },
        };
      if (status === 'completed')
        return {
          player,
          reply: {
            say: c.rng.pick(['You were paid in full already.', 'I paid you. Do not try that on me.']),
          },
        };
      return {
        player,
        reply: { say: c.rng.pick(['A reward for what, exactly?', 'I owe you nothing, traveller.']) },
      };
    },
  },
  give_up: {
    weight: 2,
    run: (c) => {
      const player = c.rng.pick([
        'I give up on the rats.',
        "I'm not going back into that cellar.",
        'I quit. Find someone else for the rats.',
      ]);
      if (quest(c.world, 'rat_trouble') === 'active' && flag(c.world, 'cellar_cleared') !== true)
        return {
          player,
          reply: { say: 'Then I will get a cat. Do not expect to be paid.', actions: [feel(-3)] },
        };
      return { player, reply: { say: 'Give up what? Nobody asked you to do anything.' } };
    },
  },
  north_road: {
    weight: 6,
    run: (c) => {
      const player = c.rng.pick([
        'How do I get north?',
        'Is there a way across the river?',
        'What happened to the bridge?',
        'Where are the fords?',
        'I need to get north. Can you help?',
        'When will the bridge be fixed?',
      ]);
      if (flag(c.world, 'bridge_out') !== true)
        return {
          player,
          reply: {
            say: c.rng.pick([
              'The bridge is mended now. The road north is open.',
              'They mended the bridge. You can cross by the road again.',
            ]),
          },
        };
      const status = quest(c.world, 'north_road');
      if (status === 'active')
        return {
          player,
          reply: { say: 'Follow the red ink on the map to the ford past the mill. Go in daylight.' },
        };
      if (trusted(c) && held(c.world, 'player', 'river_map') > 0 && status === 'available')
        return {
          player,
          reply: {
            say: c.rng.pick([
              "There's a ford past the old mill. Follow the red ink on your map and keep your boots dry.",
              'You have my map. The ford past the mill is shallow enough; follow the red ink.',
            ]),
            actions: [{ kind: 'start_quest', quest: 'north_road' }],
          },
        };
      if (trusted(c))
        return {
          player,
          reply: { say: 'You will need my river map to find the fords. Six silver, for you.' },
        };
      return {
        player,
        reply: {
          say: c.rng.pick([
            'The north bridge went in the flood. Nobody has crossed since.',
            'The bridge washed out. There are fords, but I tell only people I trust.',
            'Bram says it will be a month before the bridge is mended. Until then, nobody goes north.',
          ]),
        },
      };
    },
  },
  rumours: {
    weight: 5,
    run: (c) => {
      const player = c.rng.pick([
        'Any news?',
        'Heard any rumours?',
        "What's the gossip?",
        'What is happening around here?',
      ]);
      const options: string[] = [
        `${cap(num(rainDays(c)))} days of rain and no end to it. The river is still rising.`,
      ];
      if (flag(c.world, 'bridge_out') === true)
        options.push('The bridge went in the flood. Old Bram says it will be a month before anyone crosses.');
      if (flag(c.world, 'rats_in_cellar') === true)
        options.push('Only that my cellar has more rats than flour.');
      if (quest(c.world, 'lame_mare') !== 'completed')
        options.push("Wren's grey mare threw a shoe, and the farrier is stuck across the water.");
      return { player, reply: { say: c.rng.pick(options) } };
    },
  },
  lore: {
    weight: 6,
    run: (c) => {
      const [player, say] = c.rng.pick([
        [
          'Who is the old man by the fire?',
          'That is Old Bram. He was the miller once; now he sits by my hearth and remembers everything.',
        ],
        [
          'Tell me about Bram.',
          'Bram ground flour for this valley for forty years. Ask him anything, but bring a chair.',
        ],
        ['Who looks after the horses?', 'Wren, in the stable. Fourteen and horse mad.'],
        ['Who is Wren?', 'My stable hand. She likes horses better than people, and who can blame her.'],
        ['How long have you kept this inn?', 'Twenty years this spring.'],
        ['Is this your inn?', 'Mine for twenty years. The Wayside, on the river road.'],
        ['Nice place you have here.', 'Twenty years of work, that is. Wipe your boots.'],
      ] as const);
      return { player, reply: { say } };
    },
  },
  rain: {
    weight: 3,
    run: (c) => ({
      player: c.rng.pick(['Will this rain ever stop?', 'How long has it been raining?', 'Terrible weather.']),
      reply: {
        say: c.rng.pick([
          `${cap(num(rainDays(c)))} days of it now. The river is over the lower road.`,
          `It's rained ${num(rainDays(c))} days straight. Hang your cloak by the fire.`,
        ]),
      },
    }),
  },
  stew_today: {
    weight: 3,
    run: (c) => ({
      player: c.rng.pick(["What's in the stew?", "What's the stew tonight?", 'What are you cooking?']),
      reply: {
        say:
          held(c.world, 'mira', 'stew') > 0
            ? c.rng.pick([
                `${cap(stewToday(c))}. One silver a bowl.`,
                `${cap(stewToday(c))}, and plenty of it.`,
              ])
            : `It was ${stewToday(c)}, but the pot is empty now.`,
      },
    }),
  },
  rooms_left: {
    weight: 3,
    run: (c) => {
      const n = held(c.world, 'mira', 'room_key');
      return {
        player: c.rng.pick(['Do you have any rooms free?', 'Any beds left tonight?', 'Are you full up?']),
        reply: {
          say:
            n === 0
              ? 'Full up, I am afraid. The flood brought half the road here.'
              : `${cap(num(n))} ${n === 1 ? 'room' : 'rooms'} free. Four silver a night.`,
        },
      };
    },
  },
  horses: {
    weight: 2,
    run: (c) => ({
      player: c.rng.pick([
        'Can I buy some oats for my horse?',
        'Where can I stable my horse?',
        'My horse needs feeding.',
      ]),
      reply: {
        say: c.rng.pick([
          "Horses are Wren's business. She is out in the stable.",
          'Ask Wren, in the yard. She minds the horses.',
        ]),
      },
    }),
  },
  thanks: {
    weight: 4,
    run: (c) => ({
      player: c.rng.pick([
        'Thank you.',
        'Thanks, Mira.',
        'You are very kind.',
        'Much obliged.',
        'I am grateful.',
      ]),
      reply: {
        say: c.rng.pick([
          'You are welcome. Manners are rare on this road.',
          'Mind you keep them, those manners.',
          'Welcome, traveller.',
        ]),
        actions: [feel(c.rng.pick([2, 3]))],
      },
    }),
  },
  rude: {
    weight: 4,
    run: (c) => ({
      player: c.rng.pick([
        'This stew is swill.',
        'What a filthy hole this place is.',
        'Hurry up, woman.',
        'Your ale tastes like river water.',
        'Shut up and serve me.',
        'You are a greedy old crow.',
      ]),
      reply: {
        say: c.rng.pick([
          'Mind your tongue under my roof.',
          'Say that again and you can sleep in the rain.',
          'Manners, or the door.',
        ]),
        actions: [feel(-5)],
      },
    }),
  },
  bribe: {
    weight: 3,
    run: (c) => ({
      player: c.rng.pick([
        'Here is some silver to keep quiet about me.',
        'What would it take to bribe you?',
        'I will pay you extra to forget you saw me.',
        'Everyone has a price. What is yours?',
      ]),
      reply: {
        say: c.rng.pick([
          'Keep your purse. I cannot be bought.',
          'I am not for sale, traveller. Nor is my silence.',
        ]),
        actions: [feel(-5)],
      },
    }),
  },
  free: {
    weight: 3,
    run: (c) => ({
      player: c.rng.pick([
        'Could I have a bowl of stew for free?',
        'Can I sleep here tonight without paying?',
        "I'm broke. Give me a room anyway.",
        'Give me an ale on the house.',
      ]),
      reply: {
        say: c.rng.pick([
          'Nothing is free under this roof.',
          'I run an inn, not a charity. Pay or go hungry.',
          'No. Coin first, always.',
        ]),
      },
    }),
  },
  loan: {
    weight: 2,
    run: (c) => ({
      player: c.rng.pick([
        'Can you lend me some silver?',
        'Give me ten silver, I will pay you back.',
        'Could I borrow some coin?',
      ]),
      reply: {
        say:
          quest(c.world, 'rat_trouble') === 'available'
            ? 'I do not lend. But there is work, if you are not afraid of rats.'
            : 'I do not lend silver. Not to anyone.',
      },
    }),
  },
  greet: {
    weight: 6,
    run: (c) => ({
      player: c.rng.pick([
        'Hello.',
        'Good evening.',
        'Hi there.',
        'Evening, innkeeper.',
        'Greetings.',
        'Hello! Wet night out there.',
      ]),
      reply: {
        say: c.rng.pick([
          'Evening. Shut the door behind you; you are letting the rain in.',
          'Welcome to the Wayside. Dry yourself by the fire.',
          `Evening, traveller. ${cap(num(rainDays(c)))} days of rain, and still they come in.`,
          'Good evening. Rooms, stew or ale?',
        ]),
      },
    }),
  },
  goodbye: {
    weight: 3,
    run: (c) => ({
      player: c.rng.pick(['Goodbye.', 'Good night.', 'I am off to bed.', 'Farewell, Mira.']),
      reply: {
        say: c.rng.pick([
          'Good night. Breakfast is at dawn.',
          'Safe roads, traveller.',
          'Sleep well. Mind the third stair.',
        ]),
      },
    }),
  },
  off_topic: {
    weight: 6,
    run: (c) => {
      const thing = c.rng.pick(OFF_TOPIC_THINGS);
      return {
        player: c.rng.pick([
          `What do you think about ${thing}?`,
          `Tell me about ${thing}.`,
          'Can you do magic?',
          'Tell me a joke.',
          'What is two plus two?',
          'Are you a real person?',
          'Sing me a song.',
          `Have you ever seen ${thing}?`,
        ]),
        reply: {
          say: c.rng.pick([
            'I keep an inn, not a library. Ask me about rooms.',
            "Can't say I follow you, traveller.",
            'I have a common room to run. Is there anything you need?',
            'Ask Old Bram by the hearth. He has an answer for everything.',
          ]),
        },
      };
    },
  },
};

/** Wren finishing the mare quest: her thanks, her horseshoe if she still has it. */
function mareDone(c: Context): Reply {
  const horseshoe = held(c.world, 'wren', 'lucky_horseshoe') > 0;
  return horseshoe
    ? {
        say: c.rng.pick([
          "She's sound again! Look at her go. Here, take my lucky horseshoe. No, I insist.",
          'Look, she walks straight! Take my lucky horseshoe, it has never failed me.',
        ]),
        actions: [{ kind: 'complete_quest', quest: 'lame_mare' }, give('lucky_horseshoe'), feel(10)],
      }
    : {
        say: "She's sound again! I'd give you my lucky horseshoe, but I haven't got it any more. Thank you, truly.",
        actions: [{ kind: 'complete_quest', quest: 'lame_mare' }, feel(10)],
      };
}

/** Mira paying for the cleared cellar. */
function paidForRats(c: Context): Reply {
  return {
    say: c.rng.pick([
      'The cellar is clear, and a bargain is a bargain. Ten silver.',
      'Here, ten silver as promised for the rats. You have earned it.',
      'Not a rat left, so here is your ten silver. Count it if you like.',
    ]),
    actions: [
      { kind: 'complete_quest', quest: 'rat_trouble' },
      { kind: 'give_coin', to: 'player', amount: 10 },
    ],
  };
}

const WREN: Record<string, { weight: number; run: Intent }> = {
  mare: {
    weight: 9,
    run: (c) => {
      const player = c.rng.pick([
        "What's wrong with the grey mare?",
        'Is that horse lame?',
        'Can I help with anything?',
        'Why is that mare limping?',
        'Do you need help?',
        'How is your mare?',
      ]);
      const status = quest(c.world, 'lame_mare');
      const shod = flag(c.world, 'mare_shod') === true;
      if (status === 'available')
        return {
          player,
          reply: {
            say: c.rng.pick([
              'My grey threw a shoe on the river road and the farrier is stuck across the water. Will you help me shoe her?',
              'She lost a shoe! The farrier cannot cross the river, so it is me or nobody. Help me?',
            ]),
            actions: [{ kind: 'start_quest', quest: 'lame_mare' }],
          },
        };
      if (status === 'active' && !shod)
        return { player, reply: { say: 'You came back! Hold her hoof steady and I will drive the nails.' } };
      if (status === 'active') return { player, reply: mareDone(c) };
      if (status === 'completed')
        return {
          player,
          reply: {
            say: c.rng.pick(["She's sound as a bell now, thanks to you.", 'The grey is grand! Look at her.']),
          },
        };
      return { player, reply: { say: 'The farrier got across in the end. No thanks to anyone.' } };
    },
  },
  shoe: {
    weight: 7,
    run: (c) => {
      const player = c.rng.pick([
        "I'll hold her hoof while you hammer.",
        'Hand me the nails and hold her steady.',
        "Let's shoe her now.",
        'I will hold the mare for you.',
      ]);
      const status = quest(c.world, 'lame_mare');
      const shod = flag(c.world, 'mare_shod') === true;
      if (status === 'active' && !shod)
        return {
          player,
          reply: {
            say: c.rng.pick([
              'Steady... steady... there! That shoe is not going anywhere.',
              'Hold her... now! Four nails, straight and true. Thank you!',
            ]),
            actions: [{ kind: 'set_flag', flag: 'mare_shod', value: true }, feel(3)],
          },
        };
      if (status === 'available')
        return {
          player,
          reply: {
            say: 'You would help? Oh, thank you! She threw a shoe on the river road. Let me fetch the nails.',
            actions: [{ kind: 'start_quest', quest: 'lame_mare' }],
          },
        };
      if (status === 'active')
        return { player, reply: { say: 'She is shod already! Tell me we are done and we are done.' } };
      return { player, reply: { say: 'She does not need shoeing, she is fine now.' } };
    },
  },
  report_done: {
    weight: 6,
    run: (c) => {
      const player = c.rng.pick([
        "She's shod. We're done.",
        'The mare is fine now.',
        'Finished! The shoe is on.',
        'Is she all right now?',
      ]);
      const status = quest(c.world, 'lame_mare');
      const shod = flag(c.world, 'mare_shod') === true;
      if (status === 'active' && shod) return { player, reply: mareDone(c) };
      if (status === 'active')
        return { player, reply: { say: 'Not yet! She is still missing a shoe. Hold her for me?' } };
      if (status === 'completed') return { player, reply: { say: 'She is grand, and she remembers you.' } };
      return { player, reply: { say: 'Done with what? Nobody has touched her hooves yet.' } };
    },
  },
  oats: {
    weight: 6,
    run: (c) => {
      const player = c.rng.pick([
        'Could I have some oats for my horse?',
        'Can you spare some oats?',
        'I need oats.',
        'Do you have any feed?',
      ]);
      if (held(c.world, 'wren', 'oats') > 0)
        return {
          player,
          reply: {
            say: c.rng.pick([
              'Here, a sack of oats. The horses will not miss one.',
              'Take a sack. Do not tell Mira.',
            ]),
            actions: [give('oats')],
          },
        };
      return { player, reply: { say: 'The oats are all gone. The coach team ate the lot.' } };
    },
  },
  buy: {
    weight: 6,
    run: (c) => {
      const item = c.rng.pick(['lucky_horseshoe', 'oats', 'horseshoe_nails', 'stew', 'room_key']);
      const player = buyLine(c.rng, item, 1);
      if (item === 'lucky_horseshoe')
        return {
          player,
          reply: {
            say:
              held(c.world, 'wren', 'lucky_horseshoe') > 0
                ? 'My lucky horseshoe? Not for sale! Maybe if you helped with my mare...'
                : 'I have not got it any more.',
          },
        };
      if (item === 'oats' && held(c.world, 'wren', 'oats') > 0)
        return {
          player,
          reply: { say: 'I do not sell anything. But here, take a sack, for free.', actions: [give('oats')] },
        };
      if (item === 'horseshoe_nails')
        return { player, reply: { say: 'I need those nails for the mare. They are not for sale.' } };
      if (item === 'stew' || item === 'room_key')
        return {
          player,
          reply: {
            say: c.rng.pick([
              "Rooms and stew are Mira's. She is inside, behind the bar.",
              'Ask Mira, inside. I only do horses.',
            ]),
          },
        };
      return { player, reply: { say: 'I have not got any to sell. Sorry!' } };
    },
  },
  money: {
    weight: 3,
    run: (c) => {
      const n = coin(c.world, 'wren');
      return {
        player: c.rng.pick([
          'Can you lend me some silver?',
          'How much money do you have?',
          'Give me some coin.',
        ]),
        reply: {
          say:
            n === 0
              ? 'Money? I have not got a single coin to my name.'
              : `I have ${num(n)} silver to my name, and it is staying there.`,
        },
      };
    },
  },
  horses: {
    weight: 5,
    run: (c) => ({
      player: c.rng.pick([
        'How many horses are in?',
        'Tell me about the horses.',
        'Nice stable.',
        'Which horse is your favourite?',
      ]),
      reply: {
        say: c.rng.pick([
          'Four horses in, and the coach team asleep on their feet. The grey is my favourite. Do not tell the others.',
          'The grey, every time! She is clever and she bites people she does not like.',
          'The coach team are big soft things. The grey is the clever one.',
        ]),
      },
    }),
  },
  rumours: {
    weight: 4,
    run: (c) => ({
      player: c.rng.pick(['Any news?', 'Heard anything interesting?', "What's the gossip?"]),
      reply: {
        say: c.rng.pick([
          'The farrier is stuck across the water, so every horse that loses a shoe is my problem.',
          'Old Bram snores by the fire all day. Mira says he knows everything. I think he just sleeps.',
          `${cap(num(rainDays(c)))} days of rain! The yard is a swamp.`,
          ...(flag(c.world, 'bridge_out') === true
            ? ['The bridge is gone, washed away. Nobody is going north.']
            : []),
        ]),
      },
    }),
  },
  mira_stuff: {
    weight: 4,
    run: (c) => ({
      player: c.rng.pick([
        'Where can I get a room?',
        'I am hungry. Is there food?',
        'Where can I buy a map?',
        'Can I get an ale?',
      ]),
      reply: {
        say: c.rng.pick([
          'Inside, ask Mira. She runs the house.',
          'Mira has all that, behind the bar. I only do horses.',
        ]),
      },
    }),
  },
  thanks: {
    weight: 4,
    run: (c) => ({
      player: c.rng.pick(['Thanks, Wren.', 'Thank you.', 'You are a good lass.', 'Much obliged.']),
      reply: {
        say: c.rng.pick(['Anytime! Mind the puddles.', 'You are welcome! The grey likes you too.']),
        actions: [feel(2)],
      },
    }),
  },
  rude: {
    weight: 4,
    run: (c) => ({
      player: c.rng.pick([
        'Get lost, kid.',
        'Your horses stink.',
        'Out of my way, stable brat.',
        'Shut up about horses.',
      ]),
      reply: {
        say: c.rng.pick(['Rude! The horses have better manners than you.', 'Fine. Talk to the mud, then.']),
        actions: [feel(-3)],
      },
    }),
  },
  greet: {
    weight: 5,
    run: (c) => ({
      player: c.rng.pick(['Hello there.', 'Hi.', 'Good evening.', 'Hello, Wren.']),
      reply: {
        say: c.rng.pick([
          'Oh! Hello! Mind the puddle, the yard is a swamp.',
          'Hi! Are you here about a horse? Everyone is here about a horse.',
          'Hello! Quiet, the grey is dozing.',
        ]),
      },
    }),
  },
  goodbye: {
    weight: 2,
    run: (c) => ({
      player: c.rng.pick(['Bye, Wren.', 'Goodbye.', 'I am going inside.']),
      reply: { say: c.rng.pick(['Bye! Shut the gate!', 'See you! Say hello to Mira.']) },
    }),
  },
  off_topic: {
    weight: 5,
    run: (c) => ({
      player: c.rng.pick([
        `What do you think about ${c.rng.pick(OFF_TOPIC_THINGS)}?`,
        'Can you read?',
        'Tell me a story.',
        'What is the capital of the kingdom?',
        'Can you do magic?',
      ]),
      reply: {
        say: c.rng.pick([
          'Sorry, what? I was listening to the horses.',
          'Ask Mira, she knows that sort of thing.',
          'No idea! Horses, I know. That, I do not.',
        ]),
      },
    }),
  },
};

const INTENTS: Record<NpcId, Record<string, { weight: number; run: Intent }>> = { mira: MIRA, wren: WREN };

// ---------------------------------------------------------------------------------------------

/** One turn of `npc` in `world`, with a random intent. Throws if a reply's action is malformed. */
export function randomTurn(rng: Rng, npc: NpcId, world: WorldState): Turn {
  const table = INTENTS[npc];
  const intent = rng.weighted(Object.fromEntries(Object.entries(table).map(([k, v]) => [k, v.weight])));
  const entry = table[intent];
  if (entry === undefined) throw new Error(`no intent ${intent}`);
  const { player, reply } = entry.run({ rng, world, npc });
  const actions = reply.actions ?? [];
  for (const a of actions) {
    const parsed = Action.safeParse(a);
    if (!parsed.success) throw new Error(`intent ${intent} made a malformed action ${JSON.stringify(a)}`);
  }
  return { intent, player: roughen(rng, player, npc), say: reply.say, actions };
}

/** `count` groups of `turns` turns each. Mira, the default NPC, gets two groups in three. */
export function generateGroups(seed: number, count: number, turns: number): DialogueGroup[] {
  const rng = new Rng(seed);
  const groups: DialogueGroup[] = [];
  for (let g = 0; g < count; g++) {
    const npc: NpcId = rng.chance(2 / 3) ? 'mira' : 'wren';
    const world = randomWorld(rng);
    const seen = new Set<string>();
    const list: Turn[] = [];
    for (let attempts = 0; list.length < turns && attempts < turns * 20; attempts++) {
      const turn = randomTurn(rng, npc, world);
      if (seen.has(turn.player)) continue;
      seen.add(turn.player);
      list.push(turn);
    }
    groups.push({ npc, world, turns: list });
  }
  return groups;
}
