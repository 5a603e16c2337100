import { describe, expect, it } from 'vitest';
import { firstActionLine, parseModelOutput, spokenPart } from './proposals';

const SALE = '{"kind":"sell_item","item":"room_key","to":"player","count":1,"price":4}';

describe('parseModelOutput', () => {
  it('a reply without action lines is all speech, trimmed', () => {
    expect(parseModelOutput('  Welcome, traveller.\nThe stew is hot.  \n')).toEqual({
      spoken: 'Welcome, traveller.\nThe stew is hot.',
      proposals: [],
      errors: [],
    });
    expect(parseModelOutput('')).toEqual({ spoken: '', proposals: [], errors: [] });
  });

  it('reads several actions after the spoken line, in order', () => {
    const out = parseModelOutput(
      [
        'A room is four silver. And thank you for asking nicely.',
        `ACTION ${SALE}`,
        '',
        '  ACTION {"kind":"adjust_relationship","toward":"player","delta":5}',
        'ACTION\t{"kind":"set_flag","flag":"door_open","value":"ajar"}',
      ].join('\n'),
    );
    expect(out.spoken).toBe('A room is four silver. And thank you for asking nicely.');
    expect(out.errors).toEqual([]);
    expect(out.proposals).toEqual([
      { kind: 'sell_item', item: 'room_key', to: 'player', count: 1, price: 4 },
      { kind: 'adjust_relationship', toward: 'player', delta: 5 },
      { kind: 'set_flag', flag: 'door_open', value: 'ajar' },
    ]);
  });

  it('applies defaults: count is 1 unless given', () => {
    const out = parseModelOutput(
      'Here.\nACTION {"kind":"give_item","item":"stew","to":"player"}\nACTION {"kind":"sell_item","item":"ale","to":"player","price":2}',
    );
    expect(out.proposals).toEqual([
      { kind: 'give_item', item: 'stew', to: 'player', count: 1 },
      { kind: 'sell_item', item: 'ale', to: 'player', count: 1, price: 2 },
    ]);
  });

  it('reports malformed JSON with its 1-based line and text, and keeps the good actions', () => {
    const out = parseModelOutput(`Here you go.\nACTION {"kind":"give_item",\nACTION ${SALE}\nACTION`);
    expect(out.spoken).toBe('Here you go.');
    expect(out.proposals).toHaveLength(1);
    expect(out.errors).toEqual([
      {
        line: 2,
        text: 'ACTION {"kind":"give_item",',
        message: expect.stringMatching(/^not JSON: /) as unknown,
      },
      { line: 4, text: 'ACTION', message: expect.stringMatching(/^not JSON: /) as unknown },
    ]);
  });

  it('refuses an unknown kind, never guessing', () => {
    const out = parseModelOutput('Watch.\nACTION {"kind":"cast_spell","spell":"sweet_milk"}');
    expect(out.proposals).toEqual([]);
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toMatchObject({
      line: 2,
      text: 'ACTION {"kind":"cast_spell","spell":"sweet_milk"}',
    });
    expect(out.errors[0]?.message).toMatch(/^kind: /);
    expect(out.errors[0]?.message).toContain('give_item');
  });

  it('refuses an extra key, a missing field, a wrong type and a non-object', () => {
    const out = parseModelOutput(
      [
        'Hm.',
        'ACTION {"kind":"give_coin","to":"player","amount":5,"reason":"pity"}',
        'ACTION {"kind":"give_coin","to":"player"}',
        'ACTION {"kind":"give_coin","to":"player","amount":"5"}',
        'ACTION ["give_coin"]',
        'ACTION {"kind":"give_coin","to":"player","amount":0}',
      ].join('\n'),
    );
    expect(out.proposals).toEqual([]);
    expect(out.errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 6]);
    expect(out.errors[0]?.message).toMatch(/reason/);
    expect(out.errors[1]?.message).toMatch(/^amount: /);
    expect(out.errors[2]?.message).toMatch(/^amount: .*expected number/);
    expect(out.errors[4]?.message).toMatch(/^amount: /);
  });

  it('text after the first action line is an error, not speech', () => {
    const out = parseModelOutput(`Here.\nACTION ${SALE}\nEnjoy your stay!`);
    expect(out.spoken).toBe('Here.');
    expect(out.proposals).toHaveLength(1);
    expect(out.errors).toEqual([
      {
        line: 3,
        text: 'Enjoy your stay!',
        message: "after the first action line every line must start with 'ACTION '",
      },
    ]);
  });

  it("'ACTIONS' (or any longer word) does not start an action line", () => {
    const out = parseModelOutput('ACTIONS speak louder than words.\nACTIONABLE advice, that.');
    expect(out).toEqual({
      spoken: 'ACTIONS speak louder than words.\nACTIONABLE advice, that.',
      proposals: [],
      errors: [],
    });
    expect(firstActionLine(['ACTIONS {}', 'action {}', 'ACTION {}'])).toBe(2);
  });

  it('truncates a long bad line to 300 characters in the report', () => {
    const long = `ACTION {"kind":"set_flag","flag":"f","value":"${'x'.repeat(400)}"}`;
    const [error] = parseModelOutput(`Hm.\n${long}`).errors;
    expect(error?.text).toHaveLength(300);
    expect(error?.text.endsWith('...')).toBe(true);
  });
});

describe('spokenPart', () => {
  it('is the text before the first action line, trimmed', () => {
    expect(spokenPart(` A room is four silver.\nACTION ${SALE}\n`)).toBe('A room is four silver.');
    expect(spokenPart('Just talk.\n')).toBe('Just talk.');
  });

  it('hides action lines while a reply is still streaming', () => {
    const full = `A room is four silver.\nACTION ${SALE}`;
    // Every prefix that already contains the whole ACTION keyword shows only speech.
    const keywordEnd = full.indexOf('ACTION') + 'ACTION'.length;
    for (let n = keywordEnd; n <= full.length; n++)
      expect(spokenPart(full.slice(0, n))).toBe('A room is four silver.');
    // Before the line break the spoken line is still growing.
    expect(spokenPart('A room is fo')).toBe('A room is fo');
  });

  it('a reply cut off inside an action line reports the broken line', () => {
    const out = parseModelOutput(`A room is four silver.\nACTION ${SALE.slice(0, 30)}`);
    expect(out.spoken).toBe('A room is four silver.');
    expect(out.proposals).toEqual([]);
    expect(out.errors[0]).toMatchObject({ line: 2, message: expect.stringMatching(/^not JSON/) as unknown });
  });
});
