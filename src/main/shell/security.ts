/**
 * Pure security decisions for the Electron shell: which URLs are ours, which permissions a page
 * gets, what the Content-Security-Policy says. No Electron import, so every rule is unit-tested
 * under plain Node; window.ts wires these onto Electron objects.
 */

/** The packaged renderer is served from this privileged custom scheme, never from file://. */
export const APP_SCHEME = 'parley';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * The policy sent as a response header for every renderer document. The renderer talks to the
 * runtime over IPC in Electron, so `connect-src 'self'` is enough here; `index.html` carries a
 * meta policy as well, which also covers browser mode.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Where the renderer comes from. electron-vite's dev server (`ELECTRON_RENDERER_URL`) is honoured
 * only in an unpackaged build and only on a loopback http origin: a packaged app that obeyed an
 * environment variable telling it which page to load would hand its preload API to any page.
 */
export function rendererUrl(packaged: boolean, env: Readonly<Record<string, string | undefined>>): string {
  const dev = env.ELECTRON_RENDERER_URL;
  if (packaged || dev === undefined || dev === '') return APP_ENTRY_URL;
  const parsed = parseUrl(dev);
  if (parsed === undefined || parsed.protocol !== 'http:' || !LOOPBACK_HOSTS.has(parsed.hostname)) {
    throw new Error(`ELECTRON_RENDERER_URL must be an http URL on localhost, got ${JSON.stringify(dev)}`);
  }
  return parsed.href;
}

/**
 * Whether `url` shows our renderer: same origin as `renderer` (the custom scheme or the dev
 * server). Everything else is foreign: navigation to it is denied and IPC from it is refused.
 */
export function isRendererUrl(url: string, renderer: string): boolean {
  const target = parseUrl(url);
  const base = parseUrl(renderer);
  if (target === undefined || base === undefined) return false;
  if (target.protocol !== base.protocol || target.host !== base.host) return false;
  // Custom schemes have an opaque `origin` ('null') in WHATWG URL, so compare the parts.
  return target.username === '' && target.password === '';
}

/**
 * Permissions granted to web content: none. The inspector needs no camera, microphone,
 * notifications, geolocation, clipboard read, MIDI, HID, serial or USB. A grant is added here,
 * by name, with a test, or not at all.
 */
const GRANTED_PERMISSIONS: ReadonlySet<string> = new Set<string>();

export function isPermissionGranted(permission: string): boolean {
  return GRANTED_PERMISSIONS.has(permission);
}

/** Replaces any Content-Security-Policy the response carried (header names are case-insensitive). */
export function withContentSecurityPolicy(
  headers: Readonly<Record<string, string[]>> | undefined,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() !== 'content-security-policy') out[name] = value;
  }
  out['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
  return out;
}

function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}
