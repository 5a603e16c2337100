/**
 * Browser mode: the server prints a one-time link `http://127.0.0.1:PORT/#pair=…`. The code leaves the
 * address bar at once (not left in history or screenshots) and is traded in `hello` for the launch
 * token, which lives in sessionStorage (it survives a reload, not the tab). The token itself never
 * appears in a URL. The WebSocket endpoint is the page's own origin.
 */

import { STREAM_PATH } from '../../../shared/commands';

export const TOKEN_STORAGE_KEY = 'parley.token';

export interface PageLocation {
  readonly protocol: string;
  readonly host: string;
  readonly pathname: string;
  readonly search: string;
  readonly hash: string;
}

export interface TokenEnvironment {
  readonly location: PageLocation;
  readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  readonly history: Pick<History, 'replaceState'>;
}

/** What `hello` presents: a one-time pairing code, or the token kept from an earlier pairing. */
export type Credential = { readonly kind: 'pair' | 'token'; readonly value: string };

/** The pairing code from `#pair=…` (then removed from the address bar), else the token this tab kept. */
export function takeCredential(env: TokenEnvironment): Credential | null {
  const params = new URLSearchParams(env.location.hash.replace(/^#/, ''));
  const code = params.get('pair');
  if (params.has('pair')) {
    params.delete('pair');
    const rest = params.toString();
    env.history.replaceState(
      null,
      '',
      `${env.location.pathname}${env.location.search}${rest === '' ? '' : `#${rest}`}`,
    );
  }
  if (code !== null && code !== '') return { kind: 'pair', value: code };
  const stored = env.storage.getItem(TOKEN_STORAGE_KEY);
  return stored === null || stored === '' ? null : { kind: 'token', value: stored };
}

/** Where the bridge keeps the token a pairing returned, and forgets one the server refused. */
export function tokenStore(env: Pick<TokenEnvironment, 'storage'>): TokenStore {
  return {
    save: (token) => {
      env.storage.setItem(TOKEN_STORAGE_KEY, token);
    },
    forget: () => {
      env.storage.removeItem(TOKEN_STORAGE_KEY);
    },
  };
}

export interface TokenStore {
  save(token: string): void;
  forget(): void;
}

/** `ws://host/v1/stream`, or `wss://` when the page itself came over TLS. */
export function streamUrl(location: Pick<PageLocation, 'protocol' | 'host'>): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${STREAM_PATH}`;
}
