import { describe, expect, it } from 'vitest';
import { streamUrl, takeCredential, tokenStore, TOKEN_STORAGE_KEY, type PageLocation } from './page-location';

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
        removeItem: (k: string) => void storage.delete(k),
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

describe('takeCredential', () => {
  it('takes the pairing code out of the address bar and stores nothing yet', () => {
    const { env, storage, replaced } = environment('#pair=abc123&panel=log', 'old-token');
    expect(takeCredential(env)).toEqual({ kind: 'pair', value: 'abc123' });
    expect(replaced).toEqual(['/?x=1#panel=log']);
    // The old token stays until the pairing answers with the new one.
    expect(storage.get(TOKEN_STORAGE_KEY)).toBe('old-token');
  });

  it('falls back to the token kept by an earlier pairing in this tab', () => {
    const { env, replaced } = environment('', 'kept');
    expect(takeCredential(env)).toEqual({ kind: 'token', value: 'kept' });
    expect(replaced).toEqual([]);
  });

  it('never reads a token from the address: #token= is not a credential', () => {
    const { env } = environment('#token=abc');
    expect(takeCredential(env)).toBeNull();
  });

  it('returns null for an empty code and clears it from the address', () => {
    const { env, replaced } = environment('#pair=');
    expect(takeCredential(env)).toBeNull();
    expect(replaced).toEqual(['/?x=1']);
  });

  it('the token store saves and forgets', () => {
    const { env, storage } = environment('');
    const store = tokenStore(env);
    store.save('t1');
    expect(storage.get(TOKEN_STORAGE_KEY)).toBe('t1');
    store.forget();
    expect(storage.has(TOKEN_STORAGE_KEY)).toBe(false);
  });
});

describe('streamUrl', () => {
  it('uses the page origin, with wss for https pages', () => {
    expect(streamUrl({ protocol: 'http:', host: '127.0.0.1:5000' })).toBe('ws://127.0.0.1:5000/v1/stream');
    expect(streamUrl({ protocol: 'https:', host: 'parley.example' })).toBe('wss://parley.example/v1/stream');
  });
});
