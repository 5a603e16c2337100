import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FuseState, FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFuses, checkFuses, PARLEY_FUSES } from './fuses';

/** The marker @electron/fuses looks for in an Electron binary (its src/constants.ts). */
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** Electron 45's shipped wire, one ASCII '0'/'1' per fuse in FuseV1Options order. */
const ELECTRON_45_DEFAULTS = '101100011';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-fuses-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A stand-in binary: filler, the sentinel, then the wire (version byte, length byte, states). */
function fakeBinary(name: string, wire = ELECTRON_45_DEFAULTS, version = 1, sentinel = SENTINEL): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    Buffer.concat([
      Buffer.alloc(4096, 0x7f),
      Buffer.from(sentinel),
      Buffer.from([version, wire.length]),
      Buffer.from(wire),
      Buffer.alloc(4096, 0x7f),
    ]),
  );
  return file;
}

const EXPECTED: Record<keyof typeof FuseV1Options, FuseState> = {
  RunAsNode: FuseState.DISABLE,
  EnableCookieEncryption: FuseState.ENABLE,
  EnableNodeOptionsEnvironmentVariable: FuseState.DISABLE,
  EnableNodeCliInspectArguments: FuseState.DISABLE,
  EnableEmbeddedAsarIntegrityValidation: FuseState.ENABLE,
  OnlyLoadAppFromAsar: FuseState.ENABLE,
  LoadBrowserProcessSpecificV8Snapshot: FuseState.DISABLE,
  GrantFileProtocolExtraPrivileges: FuseState.DISABLE,
  WasmTrapHandlers: FuseState.ENABLE,
};

describe('applyFuses', () => {
  it('flips every fuse in a binary and the wire reads back as intended', async () => {
    const bin = fakeBinary('electron');
    const before = readFileSync(bin);
    expect(await checkFuses(bin)).toContain('RunAsNode: ENABLE, expected DISABLE');
    await applyFuses(bin);
    const wire = await getCurrentFuseWire(bin);
    for (const [name, state] of Object.entries(EXPECTED)) {
      expect(wire[FuseV1Options[name as keyof typeof FuseV1Options]], name).toBe(state);
    }
    expect(await checkFuses(bin)).toEqual([]);
    // Only the wire bytes changed: same length, same bytes around it.
    const after = readFileSync(bin);
    expect(after.length).toBe(before.length);
    const wireStart = 4096 + SENTINEL.length + 2;
    expect(after.subarray(wireStart, wireStart + 9).toString()).toBe('010011001');
    expect(Buffer.compare(after.subarray(0, wireStart), before.subarray(0, wireStart))).toBe(0);
    expect(Buffer.compare(after.subarray(wireStart + 9), before.subarray(wireStart + 9))).toBe(0);
  });

  it('sets every fuse of the wire explicitly', () => {
    const names = Object.values(FuseV1Options).filter((v) => typeof v === 'string');
    expect(names.sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(PARLEY_FUSES.strictlyRequireAllFuses).toBe(true);
  });

  it('says clearly when the file is not an Electron binary', async () => {
    const bin = join(dir, 'not-electron');
    writeFileSync(bin, Buffer.alloc(8192, 0x41));
    await expect(applyFuses(bin)).rejects.toThrow(/not-electron: cannot flip fuses: Could not find sentinel/);
    await expect(checkFuses(bin)).rejects.toThrow(/cannot read fuses: Could not find sentinel/);
  });

  it('refuses a wire with a fuse it has no decision for (a newer Electron)', async () => {
    const bin = fakeBinary('electron-next', `${ELECTRON_45_DEFAULTS}1`);
    await expect(applyFuses(bin)).rejects.toThrow(/strictlyRequireAllFuses/);
  });

  it('refuses an unknown fuse wire version', async () => {
    const bin = fakeBinary('electron-v2', ELECTRON_45_DEFAULTS, 2);
    await expect(applyFuses(bin)).rejects.toThrow(/does not match/);
  });
});

describe('npm run package:fuses', () => {
  const require = createRequire(import.meta.url);
  const tsx = require.resolve('tsx/cli');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [tsx, join(import.meta.dirname, 'fuses.ts'), ...args], { encoding: 'utf8' });

  it('flips, verifies and reports; exits non-zero on a bad binary or no argument', async () => {
    const bin = fakeBinary('electron-cli');
    const ok = run(bin);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('all 9 fuses set and verified');
    expect(await checkFuses(bin)).toEqual([]);

    const bad = run(join(dir, 'missing-binary'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/missing-binary: cannot flip fuses: ENOENT/);

    const usage = run();
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/usage: npm run package:fuses/);
  });
});
