import { join } from 'node:path';
import type { BrowserWindowConstructorOptions } from 'electron';
import { isPermissionGranted, isRendererUrl, withContentSecurityPolicy } from './security';

/*
 * The Electron objects this module touches, narrowed to what it uses, so tests drive the real
 * wiring with fakes (there is no Electron binary in CI). Electron's own types satisfy them.
 */

export interface PreventableEventLike {
  preventDefault(): void;
}

/** The `details` of will-navigate, will-redirect and will-frame-navigate (Electron 25+). */
export interface NavigationEventLike extends PreventableEventLike {
  readonly url: string;
}

export interface WebContentsLike {
  on(
    event: 'will-navigate' | 'will-redirect' | 'will-frame-navigate',
    listener: (details: NavigationEventLike) => void,
  ): unknown;
  on(event: 'will-attach-webview', listener: (event: PreventableEventLike) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

export interface SessionLike {
  readonly webRequest: {
    onHeadersReceived(
      listener: (
        details: { responseHeaders?: Record<string, string[]> },
        callback: (response: { responseHeaders?: Record<string, string[]> }) => void,
      ) => void,
    ): void;
  };
  setPermissionRequestHandler(
    handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void,
  ): void;
  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void;
  setDevicePermissionHandler(handler: () => boolean): void;
  on(event: 'will-download', listener: (event: PreventableEventLike) => void): unknown;
}

export interface AppLike {
  on(event: 'web-contents-created', listener: (event: unknown, contents: WebContentsLike) => void): unknown;
}

export interface MainWindowLike {
  once(event: 'ready-to-show', listener: () => void): unknown;
  show(): void;
  loadURL(url: string): Promise<void>;
}

/**
 * Every webContents the app ever creates (windows, devtools, anything a future feature adds) is
 * hardened at birth, so no code path can create one that navigates, opens windows or hosts
 * webviews.
 */
export function hardenApp(app: AppLike, renderer: string): void {
  app.on('web-contents-created', (_event, contents) => {
    hardenWebContents(contents, renderer);
  });
}

/**
 * No navigation away from the renderer (top frame or sub-frame, link, script or server
 * redirect), no new windows, no webviews. Links to the outside world are simply inert: the
 * inspector has none, and opening them in a browser would be a feature with its own allow-list.
 */
export function hardenWebContents(contents: WebContentsLike, renderer: string): void {
  const denyForeign = (details: NavigationEventLike): void => {
    if (!isRendererUrl(details.url, renderer)) details.preventDefault();
  };
  contents.on('will-navigate', denyForeign);
  contents.on('will-frame-navigate', denyForeign);
  contents.on('will-redirect', denyForeign);
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
  });
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** Session-wide: CSP on every http(s) response (the dev server), no permissions, no downloads. */
export function hardenSession(session: SessionLike): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders) });
  });
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    callback(isPermissionGranted(permission));
  });
  session.setPermissionCheckHandler((_contents, permission) => isPermissionGranted(permission));
  session.setDevicePermissionHandler(() => false);
  session.on('will-download', (event) => {
    event.preventDefault();
  });
}

/**
 * The one window. `BrowserWindow` is injected (Electron's class in production, a fake in tests);
 * the parameter keeps its name so static checkers (Electronegativity) still see
 * `new BrowserWindow({ webPreferences: … })` with literal options.
 */
export function createMainWindow<W extends MainWindowLike>(
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => W,
  outDir: string,
  renderer: string,
  packaged: boolean,
): W {
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
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      // Middle-click would otherwise try to open links in new windows (denied anyway).
      disableBlinkFeatures: 'Auxclick',
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      // A shipped app has no use for DevTools; an unpackaged one is a developer's.
      devTools: !packaged,
    },
  });
  win.once('ready-to-show', () => {
    win.show();
  });
  void win.loadURL(renderer);
  return win;
}
