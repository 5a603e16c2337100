import { describe, expect, it } from 'vitest';
import { streamUrl, takeToken, TOKEN_STORAGE_KEY, type PageLocation } from './page-location';

function environment(hash: string, stored: string | null = null) {
  const storage = new Map<string, string>(stored === null ? [] : [[TOKEN_STORAGE_KEY, stored]]);
  const replaced: string[] = [];
  const location: PageLocation = {
    protocol: 'http:',
    host: '127.0.0.1:5000',
    pathname: '/',
    search: '?x=1',
    hash,
  };
  return {
    env: {
      location,
      storage: {
        getItem: (k: string) => storage.get(k) ?? null,
        setItem: (k: string, v: string) => void storage.set(k, v),
      },
      history: {
        replaceState: (_data: unknown, _unused: string, url?: string | URL | null) =>
          void replaced.push(String(url)),
      },
    },
    storage,
    replaced,
  };
}

describe('takeToken', () => {
  it('moves the token from the address bar into session storage', () => {
    const { env, storage, replaced } = environment('#token=abc123&panel=log');
    expect(takeToken(env)).toBe('abc123');
    expect(storage.get(TOKEN_STORAGE_KEY)).toBe('abc123');
    expect(replaced).toEqual(['/?x=1#panel=log']);
  });

  it('falls back to the token stored by an earlier load of this tab', () => {
    const { env, replaced } = environment('', 'kept');
    expect(takeToken(env)).toBe('kept');
    expect(replaced).toEqual([]);
  });

  it('returns null when there is no token anywhere', () => {
    expect(takeToken(environment('#token=').env)).toBeNull();
  });
});

describe('streamUrl', () => {
  it('uses the page origin, with wss for https pages', () => {
    expect(streamUrl({ protocol: 'http:', host: '127.0.0.1:5000' })).toBe('ws://127.0.0.1:5000/v1/stream');
    expect(streamUrl({ protocol: 'https:', host: 'parley.example' })).toBe('wss://parley.example/v1/stream');
  });
});
