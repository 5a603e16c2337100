/**
 * Electron fuses for a packaged Parley: flipped in the Electron binary at package time, then read
 * back and checked. Usage: `npm run package:fuses -- <path to Electron binary or .app>`.
 * No packager is set up yet; whichever is added must run this step on its output
 * (docs/electron-security.md says what each fuse protects against).
 */
import { pathToFileURL } from 'node:url';
import {
  flipFuses,
  FuseState,
  FuseV1Options,
  FuseVersion,
  getCurrentFuseWire,
  type FuseV1Config,
} from '@electron/fuses';

/**
 * Every fuse of the Electron 45 wire, set explicitly. `strictlyRequireAllFuses` makes packaging
 * fail when an Electron upgrade adds a fuse, so each new one is decided here rather than
 * inherited.
 */
export const PARLEY_FUSES = {
  version: FuseVersion.V1,
  strictlyRequireAllFuses: true,
  // ELECTRON_RUN_AS_NODE would turn the signed app into a general-purpose Node.
  [FuseV1Options.RunAsNode]: false,
  // Cookies on disk encrypted with an OS-protected key.
  [FuseV1Options.EnableCookieEncryption]: true,
  // NODE_OPTIONS (e.g. --require) would inject code into the main process.
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  // --inspect and friends would open a debugger on the main process.
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  // app.asar is checked against the hash embedded at package time (macOS, Windows).
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  // Only app.asar is loaded, so the integrity check above cannot be sidestepped with a loose app/ folder.
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  // We ship no separate browser-process V8 snapshot.
  [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
  // The renderer is served from parley://, so file:// pages need no privileges beyond a browser's.
  [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
  // Electron's default: WebAssembly bounds checks via trap handlers.
  [FuseV1Options.WasmTrapHandlers]: true,
} as const satisfies FuseV1Config;

const FUSE_NAMES = Object.values(FuseV1Options).filter((v): v is string => typeof v === 'string');

function stateName(state: number | undefined): string {
  if (state === undefined) return 'absent';
  return (FuseState as unknown as Record<number, string | undefined>)[state] ?? `unknown (${state})`;
}

/** Differences between the binary's fuse wire and PARLEY_FUSES; empty when they agree. */
export async function checkFuses(binary: string): Promise<string[]> {
  const wire = await readWire(binary);
  // Typed as FuseVersion, but it is whatever byte the binary holds.
  const version: string = wire.version;
  const expected: string = PARLEY_FUSES.version;
  if (version !== expected) {
    return [`fuse wire version ${version}, expected ${expected}`];
  }
  const problems: string[] = [];
  for (const name of FUSE_NAMES) {
    const index = FuseV1Options[name as keyof typeof FuseV1Options];
    const want = PARLEY_FUSES[index] ? FuseState.ENABLE : FuseState.DISABLE;
    const got = (wire as unknown as Record<number, number | undefined>)[index];
    if (got !== want) problems.push(`${name}: ${stateName(got)}, expected ${stateName(want)}`);
  }
  return problems;
}

/** Flips PARLEY_FUSES into `binary` and reads them back; throws unless every fuse is as intended. */
export async function applyFuses(binary: string): Promise<void> {
  try {
    await flipFuses(binary, {
      ...PARLEY_FUSES,
      // An arm64 macOS app must be re-signed after its binary changes (a real signature comes later).
      resetAdHocDarwinSignature: process.platform === 'darwin' && process.arch === 'arm64',
    });
  } catch (err) {
    throw new Error(`${binary}: cannot flip fuses: ${(err as Error).message}`, { cause: err });
  }
  const problems = await checkFuses(binary);
  if (problems.length > 0) {
    throw new Error(`${binary}: fuses did not take effect:\n  ${problems.join('\n  ')}`);
  }
}

async function readWire(binary: string): Promise<Awaited<ReturnType<typeof getCurrentFuseWire>>> {
  try {
    return await getCurrentFuseWire(binary);
  } catch (err) {
    throw new Error(`${binary}: cannot read fuses: ${(err as Error).message}`, { cause: err });
  }
}

async function main(args: string[]): Promise<number> {
  const [binary, ...rest] = args;
  if (binary === undefined || rest.length > 0 || binary.startsWith('-')) {
    console.error('usage: npm run package:fuses -- <path to the packaged Electron binary or .app>');
    return 2;
  }
  try {
    await applyFuses(binary);
  } catch (err) {
    console.error(`package:fuses: ${(err as Error).message}`);
    return 1;
  }
  for (const name of FUSE_NAMES) {
    const index = FuseV1Options[name as keyof typeof FuseV1Options];
    console.log(`  ${name}: ${PARLEY_FUSES[index] ? 'enabled' : 'disabled'}`);
  }
  console.log(`package:fuses: ${binary}: all ${FUSE_NAMES.length} fuses set and verified`);
  return 0;
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  process.exitCode = await main(process.argv.slice(2));
}
