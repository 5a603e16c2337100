// Default import: the package's CommonJS entry has no named exports Node can see.
import jsonPatch, { type Operation } from 'fast-json-patch';
import { WorldState, type PatchOperation } from '../../../shared/world';
import { hashCanonical } from '../core/hash';

/** SHA-256 over the canonical JSON of a world state. */
export function stateHash(state: WorldState): string {
  return hashCanonical(state);
}

export class PatchApplyError extends Error {
  override readonly name = 'PatchApplyError';
}

/**
 * Applies an RFC 6902 patch to a copy of `state` (fast-json-patch, every operation validated) and
 * checks the result is still a world state. `state` is not touched. Throws PatchApplyError.
 */
export function applyPatch(state: WorldState, patch: readonly PatchOperation[]): WorldState {
  let result: unknown;
  try {
    result = jsonPatch.applyPatch(
      jsonPatch.deepClone(state),
      jsonPatch.deepClone(patch) as Operation[],
      true,
      true,
    ).newDocument;
  } catch (err) {
    if (err instanceof jsonPatch.JsonPatchError) {
      const op = err.operation as { op?: string; path?: string } | undefined;
      throw new PatchApplyError(
        `patch operation ${String(err.index)} (${op?.op ?? '?'} ${op?.path ?? '?'}) does not apply: ${err.name}`,
      );
    }
    throw new PatchApplyError(`patch does not apply: ${(err as Error).message}`);
  }
  const parsed = WorldState.safeParse(result);
  if (!parsed.success)
    throw new PatchApplyError(
      `the patched state is not a valid world state: ${parsed.error.issues[0]?.message ?? ''}`,
    );
  return parsed.data;
}

/** Deep-freezes a JSON value so an extension cannot mutate the state it is shown. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Escapes one JSON Pointer segment (RFC 6901). */
export function seg(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

export function pointer(...keys: readonly string[]): string {
  return keys.map((k) => `/${seg(k)}`).join('');
}
