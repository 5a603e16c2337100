import { RESULT_SCHEMAS, type ResultOf } from '../../../shared/commands';
import { BridgeError, type BridgeCommandType } from './types';

/** Checks a command's result against the contract, so callers get the exact inferred type. */
export function parseResult<T extends BridgeCommandType>(command: T, result: unknown): ResultOf<T> {
  const parsed = RESULT_SCHEMAS[command].safeParse(result);
  if (!parsed.success) {
    throw new BridgeError('invalid_response', `${command}: result does not match the contract`, {
      issues: parsed.error.issues,
    });
  }
  return parsed.data as ResultOf<T>;
}
