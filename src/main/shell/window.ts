import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BrowserWindow, session } from 'electron';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'";

/** Where the renderer comes from: electron-vite's dev server, or the built file. */
export function rendererUrl(outDir: string): string {
  const dev = process.env.ELECTRON_RENDERER_URL;
  return dev ?? pathToFileURL(join(outDir, 'renderer/index.html')).href;
}

/** IPC is accepted only from frames showing our own renderer. */
export function isTrustedRendererUrl(url: string, outDir: string): boolean {
  const base = rendererUrl(outDir);
  if (base.startsWith('file:'))
    return url === base || url.startsWith(`${base}#`) || url.startsWith(`${base}?`);
  return new URL(url).origin === new URL(base).origin;
}

/** Process-wide hardening: CSP on every response, no permissions, no webviews. */
export function hardenSession(): void {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => {
    callback(false);
  });
}

export function createMainWindow(outDir: string): BrowserWindow {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'Parley',
    show: false,
    webPreferences: {
      preload: join(outDir, 'preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      spellcheck: false,
    },
  });
  const allowed = rendererUrl(outDir);
  // No navigation away from the inspector, no new windows.
  win.webContents.on('will-navigate', (event, url) => {
    if (url !== allowed) event.preventDefault();
  });
  win.webContents.on('will-attach-webview', (event) => {
    event.preventDefault();
  });
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.once('ready-to-show', () => {
    win.show();
  });
  void win.loadURL(allowed);
  return win;
}
