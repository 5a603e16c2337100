import { describe, expect, it } from 'vitest';
import {
  APP_ENTRY_URL,
  CONTENT_SECURITY_POLICY,
  isPermissionGranted,
  isRendererUrl,
  rendererUrl,
  withContentSecurityPolicy,
} from './security';

describe('rendererUrl', () => {
  it('is the custom-scheme entry unless an unpackaged build is pointed at a loopback dev server', () => {
    expect(rendererUrl(false, {})).toBe('parley://app/index.html');
    expect(rendererUrl(false, { ELECTRON_RENDERER_URL: '' })).toBe(APP_ENTRY_URL);
    expect(rendererUrl(false, { ELECTRON_RENDERER_URL: 'http://localhost:5173' })).toBe(
      'http://localhost:5173/',
    );
    expect(rendererUrl(false, { ELECTRON_RENDERER_URL: 'http://127.0.0.1:5173/' })).toBe(
      'http://127.0.0.1:5173/',
    );
  });

  it('ignores the environment in a packaged app', () => {
    expect(rendererUrl(true, { ELECTRON_RENDERER_URL: 'http://localhost:5173' })).toBe(APP_ENTRY_URL);
    expect(rendererUrl(true, { ELECTRON_RENDERER_URL: 'https://evil.example/' })).toBe(APP_ENTRY_URL);
  });

  it('refuses a dev URL that is not loopback http', () => {
    for (const bad of [
      'https://evil.example/',
      'http://evil.example:5173/',
      'file:///etc/passwd',
      'nonsense',
    ]) {
      expect(() => rendererUrl(false, { ELECTRON_RENDERER_URL: bad })).toThrow(/ELECTRON_RENDERER_URL/);
    }
  });
});

describe('isRendererUrl', () => {
  it('accepts any path, query or fragment of the app origin', () => {
    for (const url of [
      APP_ENTRY_URL,
      'parley://app/index.html#/sessions/1',
      'parley://app/index.html?x=1',
      'parley://app/assets/index.js',
    ]) {
      expect(isRendererUrl(url, APP_ENTRY_URL), url).toBe(true);
    }
  });

  it('rejects other schemes, hosts, credentials and garbage', () => {
    for (const url of [
      'https://evil.example/',
      'file:///app/out/renderer/index.html',
      'parley://evil/index.html',
      'parley://app.evil.example/index.html',
      'parley://user:pw@app/index.html',
      'parley:app/index.html',
      'javascript:alert(1)',
      'about:blank',
      'data:text/html,hi',
      '',
      'not a url',
    ]) {
      expect(isRendererUrl(url, APP_ENTRY_URL), url).toBe(false);
    }
  });

  it('matches the dev server by origin only', () => {
    const dev = 'http://localhost:5173/';
    expect(isRendererUrl('http://localhost:5173/index.html#x', dev)).toBe(true);
    expect(isRendererUrl('http://localhost:5174/', dev)).toBe(false);
    expect(isRendererUrl('https://localhost:5173/', dev)).toBe(false);
    expect(isRendererUrl('http://127.0.0.1:5173/', dev)).toBe(false);
  });
});

describe('permissions', () => {
  it('grants nothing', () => {
    for (const p of [
      'media',
      'geolocation',
      'notifications',
      'clipboard-read',
      'openExternal',
      'hid',
      'unknown',
    ]) {
      expect(isPermissionGranted(p), p).toBe(false);
    }
  });
});

describe('Content-Security-Policy', () => {
  it('is strict: no inline or eval script, no plugins, no framing, no base or form targets', () => {
    const directives = new Map(
      CONTENT_SECURITY_POLICY.split(';').map((d) => {
        const [name = '', ...values] = d.trim().split(/\s+/);
        return [name, values.join(' ')] as const;
      }),
    );
    expect(directives.get('default-src')).toBe("'self'");
    expect(directives.get('script-src')).toBe("'self'");
    expect(directives.get('connect-src')).toBe("'self'");
    expect(directives.get('object-src')).toBe("'none'");
    expect(directives.get('base-uri')).toBe("'none'");
    expect(directives.get('form-action')).toBe("'none'");
    expect(directives.get('frame-ancestors')).toBe("'none'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|\*|http:|https:/);
  });

  it('replaces whatever policy a response carried, whatever the header case', () => {
    const headers = withContentSecurityPolicy({
      'content-security-policy': ["default-src *; script-src 'unsafe-inline'"],
      'Content-Type': ['text/html'],
    });
    expect(headers).toEqual({
      'Content-Type': ['text/html'],
      'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
    });
    expect(withContentSecurityPolicy(undefined)).toEqual({
      'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
    });
  });
});
