/** Display helpers shared by the panels. */

export function shortHash(hash: string): string {
  return hash.slice(0, 8);
}

/** Session and turn ids can be long; the tail is what tells them apart. */
export function shortId(id: string, keep = 10): string {
  return id.length <= keep ? id : `…${id.slice(-keep)}`;
}

export function clockTime(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString(undefined, { hour12: false });
}
