import { z } from 'zod';
import { Command, COMMAND_TYPES, type ControlFrame, type ProtocolError } from '../../../shared/commands';
import type { EventEnvelope } from '../../../shared/protocol';

// A session fans each event out to all its subscribers synchronously, one event after another, so
// remembering only the last event encoded gives every subscriber after the first a cache hit, without
// the GC cost of a WeakMap over every live event.
let lastEvent: EventEnvelope | undefined;
let lastText = '';

/** JSON text of an event, computed once however many subscribers receive it in a row. */
export function encodeEvent(event: EventEnvelope): string {
  if (event !== lastEvent) {
    lastText = JSON.stringify(event);
    lastEvent = event;
  }
  return lastText;
}

export function encodeControl(frame: ControlFrame): string {
  return JSON.stringify(frame);
}

export type Decoded =
  | { readonly ok: true; readonly command: Command }
  | { readonly ok: false; readonly id: string | null; readonly error: ProtocolError };

const commandTypes = new Set<string>(COMMAND_TYPES);

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(frame)'}: ${i.message}`)
    .join('; ');
}

/**
 * Parses one inbound text frame into a command, or a precise protocol error: malformed JSON, not an
 * object, unknown type, or the first few schema violations with their paths.
 */
export function decodeCommand(text: string, byteLength: number, maxBytes: number): Decoded {
  if (byteLength > maxBytes)
    return {
      ok: false,
      id: null,
      error: {
        code: 'frame_too_large',
        message: `frame of ${byteLength} bytes exceeds the limit of ${maxBytes} bytes`,
        details: { limit: maxBytes, size: byteLength },
      },
    };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      id: null,
      error: { code: 'malformed_json', message: `frame is not valid JSON: ${(err as Error).message}` },
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return {
      ok: false,
      id: null,
      error: { code: 'invalid_command', message: 'a command must be a JSON object' },
    };
  const record = value as Record<string, unknown>;
  const id = typeof record.id === 'string' ? record.id : null;
  if (typeof record.type !== 'string')
    return { ok: false, id, error: { code: 'invalid_command', message: "a command needs a string 'type'" } };
  if (!commandTypes.has(record.type))
    return {
      ok: false,
      id,
      error: {
        code: 'unknown_command',
        message: `unknown command type '${record.type.slice(0, 64)}'`,
        details: { known: COMMAND_TYPES },
      },
    };
  const parsed = Command.safeParse(value);
  if (!parsed.success)
    return {
      ok: false,
      id,
      error: { code: 'invalid_command', message: `invalid ${record.type}: ${describeIssues(parsed.error)}` },
    };
  return { ok: true, command: parsed.data };
}
