/**
 * Browser mode: the server prints `http://127.0.0.1:PORT/#token=…`. The token moves from the
 * address bar into sessionStorage (so it survives a reload but not the tab, and is not left in
 * history or screenshots), and the WebSocket endpoint is the page's own origin.
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
  readonly storage: Pick<Storage, 'getItem' | 'setItem'>;
  readonly history: Pick<History, 'replaceState'>;
}

/** The access token from `#token=…` (then removed from the address bar) or from an earlier load of this tab. */
export function takeToken(env: TokenEnvironment): string | null {
  const params = new URLSearchParams(env.location.hash.replace(/^#/, ''));
  const fromHash = params.get('token');
  if (fromHash !== null && fromHash !== '') {
    env.storage.setItem(TOKEN_STORAGE_KEY, fromHash);
    params.delete('token');
    const rest = params.toString();
    env.history.replaceState(
      null,
      '',
      `${env.location.pathname}${env.location.search}${rest === '' ? '' : `#${rest}`}`,
    );
    return fromHash;
  }
  const stored = env.storage.getItem(TOKEN_STORAGE_KEY);
  return stored === null || stored === '' ? null : stored;
}

/** `ws://host/v1/stream`, or `wss://` when the page itself came over TLS. */
export function streamUrl(location: Pick<PageLocation, 'protocol' | 'host'>): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${STREAM_PATH}`;
}
