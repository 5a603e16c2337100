/** A patch's keys whose value is given: under exactOptionalPropertyTypes, `{k: undefined}` means "unchanged". */
export type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> };

/** Drops the keys of a patch whose value is undefined, so spreading it changes only what was given. */
export function definedEntries<T extends object>(patch: T | undefined): Defined<T> {
  return Object.fromEntries(Object.entries(patch ?? {}).filter(([, v]) => v !== undefined)) as Defined<T>;
}
