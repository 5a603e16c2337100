import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_SCHEME_PRIVILEGES, createAppProtocolHandler, resolveAppFile } from './app-protocol';
import { CONTENT_SECURITY_POLICY } from './security';

let dir: string;
let root: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-app-protocol-'));
  root = join(dir, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><p>inspector</p>');
  writeFileSync(join(root, 'assets', 'index.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'outside the renderer');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('resolveAppFile', () => {
  it('maps parley://app/<path> under the root, / to index.html', () => {
    expect(resolveAppFile('parley://app/index.html', root)).toBe(join(root, 'index.html'));
    expect(resolveAppFile('parley://app/', root)).toBe(join(root, 'index.html'));
    expect(resolveAppFile('parley://app/assets/index.js?v=1#x', root)).toBe(join(root, 'assets', 'index.js'));
  });

  it('refuses anything that leaves the root or is not ours', () => {
    // A literal `..` is already normalised away by the URL parser: it stays inside the root.
    expect(resolveAppFile('parley://app/../secret.txt', root)).toBe(join(root, 'secret.txt'));
    expect(resolveAppFile('parley://app/%2e%2e/secret.txt', root)).toBe(join(root, 'secret.txt'));
    for (const url of [
      'parley://app/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      'parley://app/..%5csecret.txt',
      'parley://app/%00index.html',
      'parley://app/%E0%A4%A',
      'parley://other/index.html',
      'file:///etc/passwd',
      'https://app/index.html',
      'garbage',
    ]) {
      expect(resolveAppFile(url, root), url).toBeUndefined();
    }
  });
});

describe('createAppProtocolHandler', () => {
  it('serves renderer files with their type, nosniff and the CSP', async () => {
    const handler = createAppProtocolHandler(root);
    const page = await handler(new Request('parley://app/index.html'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('inspector');
    const script = await handler(new Request('parley://app/assets/index.js'));
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('answers 404 for missing or escaping paths and 405 for writes', async () => {
    const handler = createAppProtocolHandler(root);
    expect((await handler(new Request('parley://app/missing.js'))).status).toBe(404);
    expect((await handler(new Request('parley://app/assets'))).status).toBe(404);
    const escaped = await handler(new Request('parley://app/%2e%2e/secret.txt'));
    expect(escaped.status).toBe(404);
    expect(await escaped.text()).not.toContain('outside');
    expect(
      (await handler(new Request('parley://app/index.html', { method: 'POST', body: 'x' }))).status,
    ).toBe(405);
  });

  it('registers a standard, secure scheme (real origins, secure context)', () => {
    expect(APP_SCHEME_PRIVILEGES).toEqual({
      scheme: 'parley',
      privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
    });
  });
});
