import { describe, expect, it } from 'vitest';
import { parseHostOptions, type HostOptions } from './host-options';

function parse(argv: string[], env: NodeJS.ProcessEnv = {}): HostOptions {
  const options = parseHostOptions(argv, env);
  if (options === 'help') throw new Error('unexpected help');
  return options;
}

describe('host options', () => {
  it('binds loopback and generates a fresh 128-bit token per launch by default', () => {
    const a = parse([]);
    const b = parse([]);
    expect(a.host).toBe('127.0.0.1');
    expect(a.token).toMatch(/^[0-9a-f]{32}$/);
    expect(a.token).not.toBe(b.token);
    expect([a.tokenFromEnv, a.listen]).toEqual([false, false]);
  });

  it('takes PARLEY_TOKEN only when it has at least 128 bits worth of characters', () => {
    expect(() => parse([], { PARLEY_TOKEN: 'x'.repeat(31) })).toThrow(/at least 32 characters/);
    const fixed = parse([], { PARLEY_TOKEN: 'y'.repeat(32) });
    expect([fixed.token, fixed.tokenFromEnv]).toEqual(['y'.repeat(32), true]);
  });

  it('opens the desktop endpoint only with --listen, and refuses unknown flags', () => {
    expect(parse(['--listen', '--port', '0']).listen).toBe(true);
    expect(() => parse(['--token', 'abc'])).toThrow(/token/);
  });
});
