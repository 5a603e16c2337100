import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock';

/** Launch tokens and pairing codes carry 128 random bits. */
export const CREDENTIAL_BYTES = 16;
/** Shortest launch token accepted from the environment: 32 hex digits (128 bits). */
export const MIN_TOKEN_LENGTH = 32;

export function newToken(): string {
  return randomBytes(CREDENTIAL_BYTES).toString('hex');
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison (over digests, so neither content nor length leaks through timing). */
export function tokenMatches(expected: string, presented: string): boolean {
  return timingSafeEqual(digest(expected), digest(presented));
}

/** The token of an `Authorization: Bearer <token>` header; null when absent or another scheme. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match?.[1] ?? null;
}

/**
 * One-time pairing codes: how a browser gets in without the launch token ever appearing in a URL or a
 * log. Each code is 128 random bits, works once, and expires after `ttlMs`. Only digests are kept, so
 * a lookup's timing says nothing about stored codes.
 */
export class PairingCodes {
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    readonly ttlMs = 10 * 60_000,
  ) {}

  issue(): { code: string; expiresAt: number } {
    this.sweep();
    const code = randomBytes(CREDENTIAL_BYTES).toString('hex');
    const expiresAt = this.clock.now() + this.ttlMs;
    this.pending.set(digest(code).toString('hex'), expiresAt);
    return { code, expiresAt };
  }

  /** True once for a live code; false for an unknown, used or expired one. */
  redeem(code: string): boolean {
    const key = digest(code).toString('hex');
    const expiresAt = this.pending.get(key);
    if (expiresAt === undefined) return false;
    this.pending.delete(key);
    return this.clock.now() < expiresAt;
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [key, expiresAt] of this.pending) if (now >= expiresAt) this.pending.delete(key);
  }
}
