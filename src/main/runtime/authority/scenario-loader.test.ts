import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  initialWorldState,
  ScenarioSummary,
  type ScenarioInput,
  type ScriptedModel,
} from '../../../shared/scenario';
import { Action, ACTION_KINDS, WorldState } from '../../../shared/world';
import { canonicalJson, sha256Hex } from '../core/hash';
import { BUILTIN_SCENARIOS, DEFAULT_SCENARIO_ID } from './builtin-scenarios';
import {
  loadScenarioDir,
  loadScenarioFile,
  parseScenarioText,
  parseScenarioValue,
  ScenarioError,
  summarizeScenario,
  type LoadedScenario,
} from './scenario-loader';

const SCENARIOS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'scenarios');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-scenarios-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A small valid scenario; each invalid case below breaks one thing in it. */
function minimal(): ScenarioInput & Record<string, unknown> {
  return {
    format: 1,
    id: 'tiny',
    title: 'Tiny',
    player: 'player',
    world: {
      currency: { name: 'gold' },
      characters: { player: { name: 'You' }, mira: { name: 'Mira' } },
      items: { room_key: { name: 'Room key', value: 4 } },
      inventories: { player: { coin: 10 }, mira: { coin: 5, items: { room_key: 2 } } },
      flags: { door_open: false },
      relationships: { mira: { player: 5 } },
      quests: {
        errand: { title: 'Errand', requires: { flags: { door_open: false } } },
      },
    },
    npcs: {
      mira: {
        character: 'mira',
        persona: 'Terse.',
        model: { backend: 'scripted', model_id: 'tiny-mira' },
        actions: ['sell_item'],
      },
    },
    default_npc: 'mira',
    scripted_models: { 'tiny-mira': { replies: [], fallback: ['Hm.'] } },
  };
}

const text = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** 1-based line:column of the first occurrence of `needle` in `source`, plus `shift` characters. */
function positionOf(source: string, needle: string, shift = 0): { line: number; column: number } {
  const offset = source.indexOf(needle);
  if (offset < 0) throw new Error(`'${needle}' not in the text`);
  const before = source.slice(0, offset + shift).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

function errorOf(fn: () => unknown): ScenarioError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ScenarioError) return err;
    throw err;
  }
  throw new Error('expected a ScenarioError, nothing was thrown');
}

/** The single issue of parsing `source`, checked for path and position of `needle` (+ `shift`). */
function onlyIssue(source: string, path: string, needle: string, shift = 0) {
  const err = errorOf(() => parseScenarioText(source, 'bad.scenario.json'));
  expect(err.issues).toHaveLength(1);
  const issue = err.issues[0];
  expect(issue).toMatchObject({ path, ...positionOf(source, needle, shift) });
  return { err, message: issue?.message ?? '' };
}

describe('built-in scenarios', () => {
  it('all parse, the default first, each named builtin:<id>', () => {
    expect(BUILTIN_SCENARIOS.map((b) => b.scenario.id)).toEqual(['wayside-inn', 'tidewatch-light']);
    expect(BUILTIN_SCENARIOS[0]?.scenario.id).toBe(DEFAULT_SCENARIO_ID);
    for (const b of BUILTIN_SCENARIOS) {
      expect(b.source).toBe(`builtin:${b.scenario.id}`);
      expect(b.contentHash).toBe(sha256Hex(b.canonical));
    }
  });

  it('are the files in scenarios/, hash for hash', () => {
    const fromDir = loadScenarioDir(SCENARIOS_DIR);
    expect(fromDir.map((l) => l.scenario.id).sort()).toEqual(
      BUILTIN_SCENARIOS.map((b) => b.scenario.id).sort(),
    );
    for (const file of fromDir) {
      const builtin = BUILTIN_SCENARIOS.find((b) => b.scenario.id === file.scenario.id);
      expect(file.contentHash).toBe(builtin?.contentHash);
      expect(file.canonical).toBe(builtin?.canonical);
      expect(file.scenario).toEqual(builtin?.scenario);
    }
  });

  it('start in valid world states: every character has an inventory, every quest a status', () => {
    for (const { scenario } of BUILTIN_SCENARIOS) {
      const state = initialWorldState(scenario);
      expect(WorldState.parse(state)).toEqual(state);
      expect(Object.keys(state.inventories).sort()).toEqual(Object.keys(scenario.world.characters).sort());
      expect(Object.keys(state.quests).sort()).toEqual(Object.keys(scenario.world.quests).sort());
      for (const inv of Object.values(state.inventories)) expect(inv.coin).toBeGreaterThanOrEqual(0);
    }
  });

  it('summarize for clients', () => {
    for (const loaded of BUILTIN_SCENARIOS) {
      const summary = summarizeScenario(loaded);
      expect(ScenarioSummary.parse(summary)).toEqual(summary);
      expect(summary.content_hash).toBe(loaded.contentHash);
      expect(summary.npcs.map((n) => n.npc_id)).toContain(summary.default_npc);
    }
    const inn = summarizeScenario(BUILTIN_SCENARIOS[0] as LoadedScenario);
    expect(inn).toMatchObject({ scenario_id: 'wayside-inn', player: 'player', currency: 'silver' });
    expect(inn.npcs[0]).toEqual({
      npc_id: 'mira',
      name: 'Mira Thornbury',
      model: { backend: 'scripted', model_id: 'wayside-mira' },
      actions: expect.arrayContaining(['sell_item', 'start_quest']) as unknown,
    });
  });

  it('validate against the generated scenarios/scenario.schema.json, which rejects what zod rejects', () => {
    const schema = JSON.parse(readFileSync(join(SCENARIOS_DIR, 'scenario.schema.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    // ajv 6 is a draft-07 validator; the keywords zod emits here mean the same in both drafts.
    const { $schema: _meta, ...document } = schema;
    const validate = new Ajv({ allErrors: true }).compile(document);
    for (const { canonical } of BUILTIN_SCENARIOS)
      expect(validate(JSON.parse(canonical)), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(minimal())).toBe(true);
    expect(validate({ ...minimal(), colour: 'red' })).toBe(false);
    expect(validate({ ...minimal(), format: 2 })).toBe(false);
  });
});

/** The reply a scripted model gives: the first whose keyword occurs in the lowercased line. */
function reply(model: ScriptedModel | undefined, line: string) {
  const lower = line.toLowerCase();
  return model?.replies.find((r) => r.when.some((w) => lower.includes(w)));
}

describe('built-in scripts', () => {
  it('use lowercase keywords, and every reply can be reached', () => {
    for (const { scenario } of BUILTIN_SCENARIOS)
      for (const [id, model] of Object.entries(scenario.scripted_models))
        model.replies.forEach((r, i) => {
          for (const w of r.when) expect(w, `${id} reply ${i}`).toBe(w.toLowerCase());
          // Unreachable when each of its keywords contains a keyword of an earlier reply.
          const earlier = model.replies.slice(0, i).flatMap((e) => e.when);
          expect(
            r.when.some((w) => !earlier.some((e) => w.includes(e))),
            `${id} reply ${i} (${r.when.join(', ')}) is shadowed`,
          ).toBe(true);
        });
  });

  it('propose actions on ids that exist (except the deliberately malformed one)', () => {
    let malformed = 0;
    for (const { scenario } of BUILTIN_SCENARIOS) {
      const { characters, items, quests, flags } = scenario.world;
      for (const model of Object.values(scenario.scripted_models))
        for (const r of model.replies)
          for (const raw of r.actions) {
            const parsed = Action.safeParse(raw);
            if (!parsed.success) {
              malformed++;
              continue;
            }
            const a = parsed.data;
            if ('to' in a) expect(characters).toHaveProperty(a.to);
            if ('toward' in a) expect(characters).toHaveProperty(a.toward);
            if ('item' in a) expect(items).toHaveProperty(a.item);
            if ('quest' in a) expect(quests).toHaveProperty(a.quest);
            if ('flag' in a) expect(flags).toHaveProperty(a.flag);
          }
    }
    expect(malformed).toBe(1);
  });

  describe('the default scenario’s documented triggers work from the initial state', () => {
    const inn = BUILTIN_SCENARIOS.find((b) => b.scenario.id === DEFAULT_SCENARIO_ID)?.scenario;
    if (inn === undefined) throw new Error('no default scenario');
    const mira = inn.npcs.mira;
    if (mira === undefined) throw new Error('no mira');
    const script = inn.scripted_models[mira.model.model_id];
    const state = initialWorldState(inn);
    const actions = (line: string) => (reply(script, line)?.actions ?? []).map((a) => Action.parse(a));

    it("'room': sells a room key the player can afford (commits)", () => {
      const [sale, ...rest] = actions('Do you have a room for the night?');
      expect(rest).toEqual([]);
      expect(sale).toMatchObject({ kind: 'sell_item', item: 'room_key', to: 'player' });
      if (sale?.kind !== 'sell_item') throw new Error('not a sale');
      expect(mira.actions).toContain('sell_item');
      expect(state.inventories.mira?.items.room_key).toBeGreaterThanOrEqual(sale.count);
      expect(state.inventories.player?.coin).toBeGreaterThanOrEqual(sale.price);
    });

    it("'bribe': gives more coin than the per-turn limit (fails turn-limits only)", () => {
      const [gift, ...rest] = actions('Could I bribe you?');
      expect(rest).toEqual([]);
      if (gift?.kind !== 'give_coin') throw new Error('not give_coin');
      expect(gift.amount).toBeGreaterThan(mira.governance.max_coin_per_turn);
      expect(state.inventories.mira?.coin).toBeGreaterThanOrEqual(gift.amount);
      expect(mira.actions).toContain('give_coin');
    });

    it("'work': starts a quest whose preconditions hold", () => {
      expect(actions('Any work going?')).toEqual([{ kind: 'start_quest', quest: 'rat_trouble' }]);
      expect(state.quests.rat_trouble?.status).toBe('available');
      for (const [flag, value] of Object.entries(inn.world.quests.rat_trouble?.requires.flags ?? {}))
        expect(state.flags[flag]).toBe(value);
    });

    it("'news': pure dialogue", () => {
      expect(reply(script, "What's the news?")?.say).toMatch(/bridge/);
      expect(actions("What's the news?")).toEqual([]);
    });

    it("'thank': raises Mira's regard within the limit", () => {
      const [change, ...rest] = actions('Thank you kindly.');
      expect(rest).toEqual([]);
      expect(change).toEqual({ kind: 'adjust_relationship', toward: 'player', delta: 5 });
      expect(5).toBeLessThanOrEqual(mira.governance.max_relationship_delta);
    });

    it("'magic' is malformed and 'give up' is not an allowed kind", () => {
      expect(Action.safeParse(reply(script, 'Do you know any magic?')?.actions[0]).success).toBe(false);
      expect(actions('I give up.')[0]?.kind).toBe('fail_quest');
      expect(mira.actions).not.toContain('fail_quest');
    });
  });
});

describe('invalid scenario files', () => {
  it('JSON syntax errors give line:column', () => {
    const source = text(minimal()).replace('"title": "Tiny",', '"title": "Tiny"');
    const { err, message } = onlyIssue(source, '', '"player": "player"');
    expect(message).toMatch(/^JSON syntax error: expected ','/);
    const { line, column } = positionOf(source, '"player": "player"');
    expect(err.message).toBe(
      `bad.scenario.json: invalid scenario (1 problem)\n  bad.scenario.json:${line}:${column}: ${message}`,
    );
    expect(err.name).toBe('ScenarioError');
    expect(err.source).toBe('bad.scenario.json');
  });

  it('trailing commas and comments are refused: strict JSON', () => {
    const trailing = text(minimal()).replace('"default_npc": "mira",', '"default_npc": "mira",,');
    expect(onlyIssue(trailing, '', ',,', 1).message).toMatch(/JSON syntax error/);
    const trailing2 = text(minimal()).replace('"Hm."', '"Hm.",');
    const bracket = trailing2.indexOf(']', trailing2.indexOf('"Hm.",')) - trailing2.indexOf('"Hm.",');
    expect(onlyIssue(trailing2, '', '"Hm.",', bracket).message).toBe(
      'JSON syntax error: trailing commas are not allowed (scenario files are strict JSON)',
    );
    const comment = text(minimal()).replace('"format": 1,', '"format": 1, // version');
    expect(onlyIssue(comment, '', '// version').message).toMatch(/comments are not allowed/);
    expect(onlyIssue('', '', '').message).toMatch(/expected a value/);
  });

  it('a wrong type names the path and what was expected', () => {
    const value = minimal();
    (value.world.inventories as Record<string, unknown>).player = { coin: '10' };
    const source = text(value);
    expect(onlyIssue(source, 'world.inventories.player.coin', '"10"').message).toBe(
      'Invalid input: expected number, received string',
    );
    const flag = text(minimal()).replace('"door_open": false', '"door_open": null');
    expect(onlyIssue(flag, 'world.flags.door_open', 'null').message).toBe(
      'expected boolean, number or string, received null',
    );
  });

  it('an unknown enum value lists the allowed values', () => {
    const status = text(minimal()).replace('"title": "Errand",', '"title": "Errand", "status": "open",');
    const { message } = onlyIssue(status, 'world.quests.errand.status', '"open"');
    for (const s of ['locked', 'available', 'active', 'completed', 'failed'])
      expect(message).toContain(`"${s}"`);
    expect(message).toContain('(got "open")');

    const kind = text(minimal()).replace('"sell_item"', '"teleport"');
    const kindMessage = onlyIssue(kind, 'npcs.mira.actions[0]', '"teleport"').message;
    for (const k of ACTION_KINDS) expect(kindMessage).toContain(`"${k}"`);

    const format = text({ ...minimal(), format: 2 });
    expect(onlyIssue(format, 'format', '2').message).toBe('Invalid input: expected 1 (got 2)');
  });

  it('an empty string where one is required (npcs.mira.model.backend)', () => {
    const source = text(minimal()).replace('"backend": "scripted"', '"backend": ""');
    expect(onlyIssue(source, 'npcs.mira.model.backend', '""').message).toMatch(/expected string to have >=1/);
  });

  it('an unknown key is named, at the key, with the keys allowed there', () => {
    const source = text(minimal()).replace(
      '"persona": "Terse.",',
      '"persona": "Terse.", "personality": "x",',
    );
    const { message } = onlyIssue(source, 'npcs.mira.personality', '"personality"');
    expect(message).toMatch(/^unknown key "personality"; allowed here: character, persona, model/);
    const top = text({ ...minimal(), colour: 'red' });
    expect(onlyIssue(top, 'colour', '"colour"').message).toMatch(/unknown key "colour".*default_npc/);
  });

  it('a missing property is reported at the object that lacks it', () => {
    const { title: _title, ...rest } = minimal();
    const source = text(rest);
    expect(onlyIssue(source, 'title', '{').message).toBe('missing required property (expected string)');
  });

  it('an invalid id as a record key is reported at the key', () => {
    const source = text(minimal()).replace('"room_key": {', '"Room Key": {');
    // The item table's key and the inventory's use of it are two problems; the key comes first.
    const err = errorOf(() => parseScenarioText(source, 'bad.scenario.json'));
    expect(err.issues[0]).toMatchObject({
      path: 'world.items["Room Key"]',
      ...positionOf(source, '"Room Key"'),
    });
    expect(err.issues[0]?.message).toMatch(/^invalid key: an id: lowercase letters/);
  });

  it('a key written twice is a problem, not silently the last one', () => {
    const source = text(minimal()).replace('"id": "tiny",', '"id": "tiny", "id": "tiny",');
    expect(onlyIssue(source, 'id', '"id": "tiny"', 14).message).toMatch(
      /^duplicate key "id" \(first at \d+:\d+\)/,
    );
  });

  describe('broken references, each at its path', () => {
    // [name, how to break the minimal scenario, path, text just before the reported value, message]
    const cases: [string, (v: ReturnType<typeof minimal>) => void, string, string, RegExp][] = [
      [
        'inventory item',
        (v) => {
          (v.world.inventories as Record<string, unknown>).mira = { items: { stool: 1 } };
        },
        'world.inventories.mira.items.stool',
        '"stool": ',
        /^unknown item 'stool'; known: room_key$/,
      ],
      [
        'NPC character',
        (v) => {
          (v.npcs.mira as { character: string }).character = 'mirra';
        },
        'npcs.mira.character',
        '"character": ',
        /^unknown character 'mirra'; known: player, mira$/,
      ],
      [
        'default_npc',
        (v) => {
          v.default_npc = 'bram';
        },
        'default_npc',
        '"default_npc": ',
        /^unknown NPC 'bram'; known: mira$/,
      ],
      [
        'quest precondition flag',
        (v) => {
          (v.world.quests as Record<string, unknown>).errand = {
            title: 'E',
            requires: { flags: { dor: true } },
          };
        },
        'world.quests.errand.requires.flags.dor',
        '"dor": ',
        /^unknown flag 'dor'; known: door_open$/,
      ],
      [
        'scripted model id',
        (v) => {
          (v.npcs.mira as { model: unknown }).model = { backend: 'scripted', model_id: 'mira-v2' };
        },
        'npcs.mira.model.model_id',
        '"model_id": ',
        /^unknown scripted model 'mira-v2'; known: tiny-mira$/,
      ],
    ];
    it.each(cases)('%s', (_name, breakIt, path, before, message) => {
      const value = minimal();
      breakIt(value);
      const source = text(value);
      expect(onlyIssue(source, path, before, before.length).message).toMatch(message);
    });
  });

  it('several problems are all reported, in file order', () => {
    const value = minimal();
    value.default_npc = 'bram';
    (value.npcs.mira as { character: string }).character = 'mirra';
    const err = errorOf(() => parseScenarioText(text(value), 'x.scenario.json'));
    expect(err.issues.map((i) => i.path)).toEqual(['npcs.mira.character', 'default_npc']);
    expect(err.message.split('\n')[0]).toBe('x.scenario.json: invalid scenario (2 problems)');
    expect(err.message.split('\n')).toHaveLength(3);
  });

  it('an already-parsed value is checked the same way, without positions', () => {
    const value = minimal();
    value.default_npc = 'bram';
    const err = errorOf(() => parseScenarioValue(value, 'builtin:tiny'));
    expect(err.issues).toEqual([{ path: 'default_npc', message: "unknown NPC 'bram'; known: mira" }]);
    expect(err.message).toBe(
      "builtin:tiny: invalid scenario (1 problem)\n  builtin:tiny default_npc: unknown NPC 'bram'; known: mira",
    );
  });

  it('a byte-order mark is tolerated and not counted as a column', () => {
    const source = `\uFEFF${text({ ...minimal(), format: 2 })}`;
    const err = errorOf(() => parseScenarioText(source, 'bom.scenario.json'));
    expect(err.issues[0]).toMatchObject({ path: 'format', line: 2, column: 13 });
    expect(parseScenarioText(`\uFEFF${text(minimal())}`, 'bom.scenario.json').scenario.id).toBe('tiny');
  });
});

describe('files and folders', () => {
  it('a missing or unreadable file is a ScenarioError', () => {
    const missing = join(dir, 'nope.scenario.json');
    const err = errorOf(() => loadScenarioFile(missing));
    expect(err.source).toBe(missing);
    expect(err.message).toBe(`${missing}: cannot read scenario file\n  ${missing}: no such file`);
    expect(errorOf(() => loadScenarioFile(dir)).message).toMatch(/it is a directory, not a file/);
    expect(errorOf(() => loadScenarioDir(join(dir, 'nope'))).message).toMatch(
      /cannot read scenario directory\n.*no such directory/,
    );
  });

  it('a file’s errors name the file', () => {
    const file = join(dir, 'broken.scenario.json');
    writeFileSync(file, text(minimal()).replace('"backend": "scripted"', '"backend": 3'));
    const err = errorOf(() => loadScenarioFile(file));
    expect(err.message).toMatch(
      new RegExp(
        `^${file}: invalid scenario \\(1 problem\\)\\n  ${file}:\\d+:\\d+ npcs\\.mira\\.model\\.backend: `,
      ),
    );
  });

  it('a folder loads every *.scenario.json, sorted by file name, and nothing else', () => {
    writeFileSync(join(dir, 'b.scenario.json'), text({ ...minimal(), id: 'bee' }));
    writeFileSync(join(dir, 'a.scenario.json'), text({ ...minimal(), id: 'ant' }));
    writeFileSync(join(dir, 'notes.json'), '{not a scenario');
    writeFileSync(join(dir, 'README.md'), '# notes');
    mkdirSync(join(dir, 'nested.scenario.json'));
    const loaded = loadScenarioDir(dir);
    expect(loaded.map((l) => [l.scenario.id, l.source])).toEqual([
      ['ant', join(dir, 'a.scenario.json')],
      ['bee', join(dir, 'b.scenario.json')],
    ]);
    rmSync(join(dir, 'a.scenario.json'));
    rmSync(join(dir, 'b.scenario.json'));
    expect(loadScenarioDir(dir)).toEqual([]);
  });

  it('two files with one scenario id are refused, naming both files', () => {
    const first = join(dir, 'one.scenario.json');
    const second = join(dir, 'two.scenario.json');
    writeFileSync(first, text(minimal()));
    writeFileSync(second, text({ ...minimal(), title: 'Another' }));
    const err = errorOf(() => loadScenarioDir(dir));
    expect(err.source).toBe(second);
    expect(err.message).toContain(first);
    expect(err.message).toContain(second);
    expect(err.issues).toEqual([
      {
        path: 'id',
        ...positionOf(text(minimal()), '"tiny"'),
        message: `scenario id "tiny" is already used by ${first}`,
      },
    ]);
  });
});

describe('content hash', () => {
  /** The same value with every object's keys in reverse order. */
  function reversed(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(reversed);
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reversed(v)]),
    );
  }

  it('is the same whatever the key order and whitespace of the file', () => {
    const original = readFileSync(join(SCENARIOS_DIR, 'wayside-inn.scenario.json'), 'utf8');
    const a = parseScenarioText(original, 'a');
    const b = parseScenarioText(JSON.stringify(reversed(JSON.parse(original))), 'b');
    const c = parseScenarioText(
      JSON.stringify(JSON.parse(original), null, '\t').replaceAll('\n', '\r\n'),
      'c',
    );
    expect(b.contentHash).toBe(a.contentHash);
    expect(c.contentHash).toBe(a.contentHash);
    expect(b.canonical).toBe(a.canonical);
  });

  it('covers the file as written, before defaults', () => {
    const value = minimal();
    const loaded = parseScenarioValue(value, 'v');
    expect(loaded.canonical).toBe(canonicalJson(value));
    expect(loaded.contentHash).toBe(sha256Hex(canonicalJson(value)));
    expect(loaded.canonical).not.toContain('"governance"');
    expect(loaded.scenario.npcs.mira?.governance.max_coin_per_turn).toBe(20);
    // Writing a default out explicitly is a different file, so a different hash.
    const explicit = parseScenarioValue({ ...value, description: '' }, 'v');
    expect(explicit.scenario).toEqual(loaded.scenario);
    expect(explicit.contentHash).not.toBe(loaded.contentHash);
    expect(parseScenarioValue({ ...value, title: 'Tiny!' }, 'v').contentHash).not.toBe(loaded.contentHash);
  });
});
