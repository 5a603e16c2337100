import type { BrowserWindowConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { APP_ENTRY_URL, CONTENT_SECURITY_POLICY } from './security';
import {
  createMainWindow,
  hardenApp,
  hardenSession,
  hardenWebContents,
  type AppLike,
  type NavigationEventLike,
  type PreventableEventLike,
  type SessionLike,
  type WebContentsLike,
} from './window';

type Listener = (...args: never[]) => unknown;

class FakeEvent implements NavigationEventLike {
  prevented = false;
  constructor(readonly url = '') {}
  preventDefault(): void {
    this.prevented = true;
  }
}

class FakeWebContents implements WebContentsLike {
  readonly listeners = new Map<string, Listener[]>();
  openHandler: ((details: { url: string }) => { action: 'deny' }) | undefined;
  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void {
    this.openHandler = handler;
  }
  /** Emits like Electron: every listener, then reports whether anyone prevented the default. */
  emit(event: string, url = ''): boolean {
    const listeners = this.listeners.get(event);
    if (listeners === undefined) throw new Error(`nothing listens to ${event}`);
    const e = new FakeEvent(url);
    for (const l of listeners) (l as (e: FakeEvent) => void)(e);
    return e.prevented;
  }
}

describe('hardenWebContents', () => {
  const navigations = ['will-navigate', 'will-frame-navigate', 'will-redirect'] as const;

  it.each(navigations)('%s: denies foreign URLs and lets the renderer through', (event) => {
    const contents = new FakeWebContents();
    hardenWebContents(contents, APP_ENTRY_URL);
    for (const foreign of [
      'https://evil.example/',
      'file:///etc/passwd',
      'parley://evil/index.html',
      'javascript:alert(1)',
      'about:blank',
      'data:text/html,<script>1</script>',
    ]) {
      expect(contents.emit(event, foreign), foreign).toBe(true);
    }
    expect(contents.emit(event, APP_ENTRY_URL)).toBe(false);
    expect(contents.emit(event, 'parley://app/index.html#/session/2')).toBe(false);
  });

  it('denies every new window and every webview', () => {
    const contents = new FakeWebContents();
    hardenWebContents(contents, APP_ENTRY_URL);
    expect(contents.openHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    expect(contents.openHandler?.({ url: APP_ENTRY_URL })).toEqual({ action: 'deny' });
    expect(contents.emit('will-attach-webview')).toBe(true);
  });
});

describe('hardenApp', () => {
  it('hardens every webContents the app creates, not just the main window', () => {
    let created: ((event: unknown, contents: WebContentsLike) => void) | undefined;
    const app: AppLike = {
      on: (_event, listener) => {
        created = listener;
      },
    };
    hardenApp(app, APP_ENTRY_URL);
    const first = new FakeWebContents();
    const second = new FakeWebContents();
    created?.({}, first);
    created?.({}, second);
    for (const contents of [first, second]) {
      expect(contents.emit('will-navigate', 'https://evil.example/')).toBe(true);
      expect(contents.openHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    }
  });
});

class FakeSession implements SessionLike {
  headersListener:
    | ((
        details: { responseHeaders?: Record<string, string[]> },
        callback: (response: { responseHeaders?: Record<string, string[]> }) => void,
      ) => void)
    | undefined;
  requestHandler:
    ((wc: unknown, permission: string, callback: (granted: boolean) => void) => void) | undefined;
  checkHandler: ((wc: unknown, permission: string) => boolean) | undefined;
  deviceHandler: (() => boolean) | undefined;
  downloadListener: ((event: PreventableEventLike) => void) | undefined;
  readonly webRequest = {
    onHeadersReceived: (listener: NonNullable<FakeSession['headersListener']>): void => {
      this.headersListener = listener;
    },
  };
  setPermissionRequestHandler(handler: NonNullable<FakeSession['requestHandler']>): void {
    this.requestHandler = handler;
  }
  setPermissionCheckHandler(handler: NonNullable<FakeSession['checkHandler']>): void {
    this.checkHandler = handler;
  }
  setDevicePermissionHandler(handler: () => boolean): void {
    this.deviceHandler = handler;
  }
  on(_event: 'will-download', listener: (event: PreventableEventLike) => void): void {
    this.downloadListener = listener;
  }
}

describe('hardenSession', () => {
  it('denies every permission request and check, every device and every download', () => {
    const session = new FakeSession();
    hardenSession(session);
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) {
      const answers: boolean[] = [];
      session.requestHandler?.({}, permission, (granted) => answers.push(granted));
      expect(answers, permission).toEqual([false]);
      expect(session.checkHandler?.({}, permission), permission).toBe(false);
    }
    expect(session.deviceHandler?.()).toBe(false);
    const download = new FakeEvent();
    session.downloadListener?.(download);
    expect(download.prevented).toBe(true);
  });

  it('puts our CSP on every response, replacing the server’s', () => {
    const session = new FakeSession();
    hardenSession(session);
    const replies: { responseHeaders?: Record<string, string[]> }[] = [];
    session.headersListener?.(
      { responseHeaders: { 'content-security-policy': ['default-src *'], Server: ['vite'] } },
      (r) => replies.push(r),
    );
    expect(replies).toEqual([
      { responseHeaders: { Server: ['vite'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } },
    ]);
  });
});

class FakeBrowserWindow {
  static created: FakeBrowserWindow[] = [];
  readonly loaded: string[] = [];
  shown = false;
  private readyToShow: (() => void) | undefined;
  constructor(readonly options: BrowserWindowConstructorOptions) {
    FakeBrowserWindow.created.push(this);
  }
  once(_event: 'ready-to-show', listener: () => void): void {
    this.readyToShow = listener;
  }
  show(): void {
    this.shown = true;
  }
  loadURL(url: string): Promise<void> {
    this.loaded.push(url);
    return Promise.resolve();
  }
  fireReadyToShow(): void {
    this.readyToShow?.();
  }
}

describe('createMainWindow', () => {
  it('opens an isolated, sandboxed renderer with no Node, no webviews and web security on', () => {
    const win = createMainWindow(FakeBrowserWindow, '/app/out', APP_ENTRY_URL, false);
    expect(win.options.show).toBe(false);
    expect(win.options.webPreferences).toEqual({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      disableBlinkFeatures: 'Auxclick',
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      devTools: true,
    });
    expect(win.loaded).toEqual([APP_ENTRY_URL]);
    expect(win.shown).toBe(false);
    win.fireReadyToShow();
    expect(win.shown).toBe(true);
  });

  it('has no DevTools in a packaged build', () => {
    const win = createMainWindow(FakeBrowserWindow, '/app/out', APP_ENTRY_URL, true);
    expect(win.options.webPreferences?.devTools).toBe(false);
  });
});
