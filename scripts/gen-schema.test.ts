import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { COMMAND_TYPES, ErrorCode, PROTOCOL_VERSION, type CommandInput } from '../src/shared/commands';
import { EVENT_CLASS, EVENT_TYPES, PAYLOAD_SCHEMAS, type EventType } from '../src/shared/protocol';
import { systemClock } from '../src/main/runtime/core/clock';
import { BUILTIN_SCENARIOS } from '../src/main/runtime/authority/builtin-scenarios';
import { parseScenarioValue, type LoadedScenario } from '../src/main/runtime/authority/scenario-loader';
import { ScriptedBackend } from '../src/main/runtime/models/scripted-backend';
import { createRuntime, type ParleyRuntime } from '../src/main/runtime/runtime';
import { startServer, type ParleyServer } from '../src/main/runtime/transport/ws-server';
import { renderProtocolSchema, SCHEMA_FILE } from './gen-schema';

type Json = Record<string, unknown>;

/** The committed document: what clients use. The first test proves it is what the generator makes. */
const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Json;
const defs = schema.$defs as Record<string, Json>;

function def(name: string): Json {
  const found = defs[name];
  if (found === undefined) throw new Error(`no $defs.${name}`);
  return found;
}

/** Follows `{ $ref: '#/$defs/X' }` one level. */
function deref(s: Json): Json {
  const ref = s.$ref;
  return typeof ref === 'string' ? def(ref.replace('#/$defs/', '')) : s;
}

/** The `type` consts of a oneOf of object schemas, with each variant. */
function variantsByType(union: Json): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const member of union.oneOf as Json[]) {
    const variant = deref(member);
    const props = variant.properties as Record<string, Json>;
    out.set(String(props.type?.const), variant);
  }
  return out;
}

describe('protocol.schema.json', () => {
  it('is committed and matches a fresh generation (run `npm run gen:schema` if not)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(renderProtocolSchema());
  });

  it('is deterministic and ends with a newline', () => {
    const a = renderProtocolSchema();
    expect(renderProtocolSchema()).toBe(a);
    expect(a.endsWith('}\n')).toBe(true);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(Object.keys(defs)).toEqual(Object.keys(defs).sort());
  });

  it('has an envelope variant for every emitted event type, with its class, and none for reserved types', () => {
    const variants = variantsByType(def('EventEnvelope'));
    const emitted = EVENT_TYPES.filter((t) => t in PAYLOAD_SCHEMAS);
    expect(emitted.length).toBeGreaterThan(0);
    expect([...variants.keys()].sort()).toEqual([...emitted].sort());
    for (const type of emitted) {
      const props = variants.get(type)?.properties as Record<string, Json>;
      expect(props.class?.const, type).toBe(EVENT_CLASS[type]);
      expect(props.v?.const, type).toBe(1);
      expect(variants.get(type)?.required).toEqual([
        'v',
        'event_id',
        'seq',
        'session_id',
        'turn_id',
        'timestamp',
        'type',
        'class',
        'payload',
      ]);
    }
    const reserved = EVENT_TYPES.filter((t: EventType) => !(t in PAYLOAD_SCHEMAS));
    for (const type of reserved) expect(variants.has(type), type).toBe(false);
  });

  it('has every command, every control frame and every error code', () => {
    expect([...variantsByType(def('Command')).keys()]).toEqual(COMMAND_TYPES);
    expect([...variantsByType(def('ControlFrame')).keys()]).toEqual([
      'result',
      'error',
      'subscription.ended',
    ]);
    expect(def('ErrorCode').enum).toEqual(Object.values(ErrorCode));
    expect(def('ServerFrame').anyOf).toEqual([
      { $ref: '#/$defs/ControlFrame' },
      { $ref: '#/$defs/EventBatchFrame' },
      { $ref: '#/$defs/EventEnvelope' },
    ]);
    // Commands are described as clients send them: defaulted fields are optional.
    expect(def('SessionSubscribeCommand').required).toEqual(['type', 'session_id']);
  });

  it('uses only keywords whose meaning is the same in draft-07, so the draft-07 validator below is exact', () => {
    // ajv 6 (the validator installed here) implements draft-07. These keywords validate identically in
    // 2020-12; `$defs` is only a $ref target. A new keyword (prefixItems, unevaluatedProperties, ...)
    // fails here, and then this test needs a 2020-12 validator (ajv 8's ajv/dist/2020).
    const allowed = new Set([
      ...['$schema', '$id', '$comment', '$defs', '$ref', 'title', 'description', 'default'],
      ...[
        'type',
        'const',
        'enum',
        'pattern',
        'minLength',
        'maxLength',
        'minimum',
        'exclusiveMinimum',
        'maximum',
      ],
      ...['properties', 'required', 'additionalProperties', 'propertyNames', 'items', 'oneOf', 'anyOf'],
      ...['minItems', 'maxItems'],
    ]);
    const annotations = new Set(['$comment', 'title', 'description', 'default']);
    const seen = new Set<string>();
    const walk = (s: unknown, where: string): void => {
      if (typeof s !== 'object' || s === null || Array.isArray(s)) return;
      const node = s as Json;
      for (const key of Object.keys(node)) seen.add(key);
      // In draft-07 a $ref's siblings are ignored; in 2020-12 they apply. Only annotations may sit beside it.
      if ('$ref' in node)
        for (const key of Object.keys(node))
          if (key !== '$ref' && !annotations.has(key)) throw new Error(`${where}: '${key}' beside $ref`);
      for (const key of ['properties', '$defs'])
        for (const [name, sub] of Object.entries((node[key] ?? {}) as Json))
          walk(sub, `${where}/${key}/${name}`);
      for (const key of ['additionalProperties', 'propertyNames', 'items'])
        walk(node[key], `${where}/${key}`);
      for (const key of ['oneOf', 'anyOf'])
        for (const [i, sub] of ((node[key] ?? []) as unknown[]).entries()) walk(sub, `${where}/${key}/${i}`);
    };
    walk(schema, '#');
    expect([...seen].filter((k) => !allowed.has(k))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Real frames from a real server, validated by a real JSON Schema validator.

const ajv = new Ajv({ allErrors: true });
{
  // ajv 6 does not know the 2020-12 meta-schema URI; the keyword check above makes that safe.
  const { $schema: _meta, ...document } = schema;
  ajv.addSchema(document, 'protocol');
}

function validate(defName: string, value: unknown): string | null {
  const fn = ajv.getSchema(`protocol#/$defs/${defName}`);
  if (fn === undefined) throw new Error(`no schema for ${defName}`);
  return fn(value) ? null : ajv.errorsText(fn.errors);
}

const TOKEN = 'gen-schema-test-token-0123456789';
const LONG_REPLY = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');

function longerReplies(loaded: LoadedScenario | undefined): LoadedScenario {
  if (loaded === undefined) throw new Error('no built-in scenario');
  const value = JSON.parse(loaded.canonical) as {
    npcs: Record<string, { sampling?: { max_tokens?: number } }>;
  };
  for (const npc of Object.values(value.npcs)) npc.sampling = { ...npc.sampling, max_tokens: 1000 };
  return parseScenarioValue(value, 'test:longer-replies');
}

function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

class Client {
  readonly frames: Json[] = [];
  readonly sent: CommandInput[] = [];
  private waiters: { pred: (f: Json) => boolean; resolve: (f: Json) => void }[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      const frame = JSON.parse(rawText(data)) as Json;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
  }

  static open(url: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => {
        resolve(new Client(ws));
      });
      ws.once('error', reject);
    });
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  send(command: CommandInput): void {
    this.sent.push(command);
    this.ws.send(JSON.stringify(command));
  }

  next(pred: (f: Json) => boolean): Promise<Json> {
    const found = this.frames.find(pred);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  async request(command: CommandInput & { id: string }): Promise<Json> {
    this.send(command);
    return this.next((f) => (f.type === 'result' || f.type === 'error') && f.id === command.id);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.ws.once('close', () => {
        resolve();
      });
      this.ws.close();
    });
  }
}

describe('real frames validate against the generated schema', () => {
  let dir: string;
  let runtime: ParleyRuntime;
  let server: ParleyServer;
  let client: Client;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-schema-'));
    runtime = createRuntime({
      dataDir: dir,
      runId: 'schematest',
      backends: [
        new ScriptedBackend({
          clock: systemClock,
          tokenIntervalMs: 2,
          script: (req) => (req.messages.at(-1)?.content === 'long' ? LONG_REPLY : 'Well met, traveller.'),
        }),
      ],
      // The default scenario with room for LONG_REPLY (400 tokens) in one turn.
      scenarios: [longerReplies(BUILTIN_SCENARIOS[0])],
    });
    server = await startServer(runtime, { token: TOKEN });
    client = await Client.open(server.wsUrl);
  });

  afterAll(async () => {
    await client.close();
    await server.close();
    await runtime.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every command sent and every frame received over one session is valid', async () => {
    client.sendRaw('{not json');
    const malformed = await client.next((f) => f.type === 'error');
    expect(malformed).toMatchObject({ type: 'error', id: null, error: { code: 'malformed_json' } });

    await client.request({ type: 'hello', id: 'h', protocol: PROTOCOL_VERSION, token: TOKEN });
    const created = await client.request({ type: 'session.create', id: 'c' });
    const sessionId = String((created.result as Json).session_id);
    await client.request({ type: 'session.subscribe', id: 's', session_id: sessionId });
    const unknown = await client.request({
      type: 'turn.cancel',
      id: 'x',
      session_id: sessionId,
      turn_id: 'nope',
    });
    expect(unknown).toMatchObject({ type: 'error', error: { code: 'unknown_turn' } });

    await client.request({ type: 'turn.start', id: 't1', session_id: sessionId, text: 'Any rooms?' });
    await client.next((f) => f.type === 'commit_succeeded');

    // A long turn, a second start while it runs (rejected), then a cancel.
    const t2 = await client.request({ type: 'turn.start', id: 't2', session_id: sessionId, text: 'long' });
    await client.request({ type: 'turn.start', id: 't3', session_id: sessionId, text: 'Hello?' });
    await client.next((f) => f.type === 'turn_rejected');
    await client.request({
      type: 'turn.cancel',
      id: 'k',
      session_id: sessionId,
      turn_id: String((t2.result as Json).turn_id),
    });
    await client.next((f) => f.type === 'turn_cancelled');
    await client.request({ type: 'session.list', id: 'l' });
    await client.request({ type: 'session.events', id: 'ev', session_id: sessionId, limit: 3 });
    await client.request({ type: 'session.unsubscribe', id: 'u', session_id: sessionId });

    for (const command of client.sent)
      expect(validate('Command', command), JSON.stringify(command)).toBeNull();
    for (const frame of client.frames)
      expect(validate('ServerFrame', frame), JSON.stringify(frame)).toBeNull();

    const seen = new Set(client.frames.map((f) => String(f.type)));
    for (const type of ['result', 'error', 'session_started', 'turn_accepted', 'token_delta', 'turn_final'])
      expect(seen.has(type), type).toBe(true);
    for (const type of ['commit_succeeded', 'turn_rejected', 'turn_cancelled', 'model_ready'])
      expect(seen.has(type), type).toBe(true);

    const delta = client.frames.find((f) => f.type === 'token_delta');
    expect(validate('TokenDeltaEvent', delta)).toBeNull();
    expect(
      validate(
        'TurnStartCommand',
        client.sent.find((c) => c.type === 'turn.start'),
      ),
    ).toBeNull();
    expect(validate('ErrorFrame', malformed)).toBeNull();
  });

  it('every server frame quoted in docs/protocol.md is valid', () => {
    const doc = readFileSync(join(dirname(SCHEMA_FILE), 'protocol.md'), 'utf8');
    const frames = [...doc.matchAll(/^C\d? ← (\{.*\})$/gmu)].map((m) => m[1] ?? '');
    expect(frames.length).toBeGreaterThan(50);
    for (const text of frames) expect(validate('ServerFrame', JSON.parse(text)), text).toBeNull();
  });

  it('rejects frames that break the contract', () => {
    const delta = {
      v: 1,
      event_id: 'r.s1.e9',
      seq: 9,
      session_id: 'r.s1',
      turn_id: 'r.s1.t1',
      timestamp: 1700000000000,
      type: 'token_delta',
      class: 'telemetry',
      payload: { index: 3, text: ' the' },
    };
    expect(validate('EventEnvelope', delta)).toBeNull();
    expect(validate('EventEnvelope', { ...delta, class: 'authoritative' })).not.toBeNull();
    expect(validate('EventEnvelope', { ...delta, payload: { index: -1, text: 'x' } })).not.toBeNull();
    expect(validate('EventEnvelope', { ...delta, seq: 0 })).not.toBeNull();
    expect(validate('EventEnvelope', { ...delta, type: 'agent_token_delta' })).not.toBeNull();
    const { turn_id: _turn, ...noTurnId } = delta;
    expect(validate('EventEnvelope', noTurnId)).not.toBeNull();

    expect(validate('Command', { type: 'turn.start', session_id: 's', text: 'hi' })).toBeNull();
    expect(validate('Command', { type: 'turn.start', text: 'hi' })).not.toBeNull();
    expect(validate('Command', { type: 'turn.stop', session_id: 's' })).not.toBeNull();
    expect(
      validate('Command', { type: 'session.subscribe', session_id: 's', overflow_policy: 'block' }),
    ).not.toBeNull();

    const error = {
      type: 'error',
      id: null,
      error: { code: 'resume_gap', message: 'gone', details: { oldest_seq: 5 } },
    };
    expect(validate('ServerFrame', error)).toBeNull();
    expect(validate('ServerFrame', { ...error, error: { code: 'nope', message: 'x' } })).not.toBeNull();
  });
});
