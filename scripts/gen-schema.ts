/**
 * Generates the JSON Schemas (draft 2020-12) of Parley's file and wire formats from the zod schemas
 * in src/shared, with zod 4's own `z.toJSONSchema`. The zod schemas stay the source of truth; these
 * files are derived:
 *
 *   docs/protocol.schema.json       the WebSocket protocol (commands, frames, event envelopes)
 *   scenarios/scenario.schema.json  the scenario file format (for editors: `"$schema"` in a file)
 *
 *   npx tsx scripts/gen-schema.ts           write both files
 *   npx tsx scripts/gen-schema.ts --check   exit 1 if a committed file differs from a fresh generation
 *
 * Output is deterministic: `$defs` sorted by name, schema keywords in one fixed order, object
 * `properties` in declaration order (the order of the zod source), two-space indent, trailing newline.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import {
  Command,
  ControlFrame,
  ErrorFrame,
  HelloCommand,
  HelloResult,
  AuthPairCommand,
  AuthPairResult,
  PROTOCOL_VERSION,
  ProtocolError,
  ResultFrame,
  ServerFrame,
  SessionCreateCommand,
  SessionEventsCommand,
  SessionEventsResult,
  SessionListCommand,
  SessionListResult,
  SessionSubscribeCommand,
  SessionSubscribeResult,
  SessionSummary,
  SessionUnsubscribeCommand,
  SessionUnsubscribeResult,
  SubscriptionEndedFrame,
  EventBatchFrame,
  TurnCancelCommand,
  TurnCancelResult,
  ScenarioListCommand,
  ScenarioListResult,
  WorldGetCommand,
  WorldGetResult,
  LedgerCommitsCommand,
  LedgerCommitsResult,
  LedgerVerifyCommand,
  LedgerVerifyResult,
  SessionExportCommand,
  SessionForkCommand,
  ForkOrigin,
  SessionBundle,
  TurnStartCommand,
  TurnStartResult,
  AgentsConfigGetCommand,
  AgentsConfigSetCommand,
  AgentsPressureSetCommand,
  AgentsStatusCommand,
  AgentCancelCommand,
  AgentsConfigResult,
  AgentsStatusResult,
  ModelsStatusCommand,
  ModelsListCommand,
  ModelsConfigSetCommand,
  ModelsLoadCommand,
  ModelsUnloadCommand,
  ModelsHintCommand,
  NpcSettingsGetCommand,
  NpcSettingsSetCommand,
  ModelsListResult,
  ModelsHintResult,
  RESULT_SCHEMAS,
} from '../src/shared/commands';
import { DiscoveredModel, ModelPoolConfig, ModelPoolStatus, NpcModelSetting } from '../src/shared/models';
import {
  AgentAdmission,
  AgentEnvelope,
  AgentStreamConfig,
  ArbiterVerdict,
  PressureStatus,
  RolloutGate,
} from '../src/shared/agents';
import {
  CancelReason,
  ENVELOPE_VERSION,
  EventEnvelope,
  ModelRef,
  OverflowPolicy,
  PAYLOAD_SCHEMAS,
  RejectReason,
  type EmittedEventType,
} from '../src/shared/protocol';
import {
  Character,
  Conditions,
  InventorySpec,
  Item,
  Npc,
  NpcGovernance,
  NpcSampling,
  Quest,
  Scenario,
  SCENARIO_FORMAT,
  ScriptedModel,
  ScenarioSummary,
  ScriptedReply,
} from '../src/shared/scenario';
import {
  Action,
  ActionKindSchema,
  CommitSummary,
  FlagValue,
  Id,
  PatchOperation,
  ProposalError,
  QuestStatus,
  Verdict,
  WorldState,
} from '../src/shared/world';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA_FILE = join(ROOT, 'docs', 'protocol.schema.json');
export const SCENARIO_SCHEMA_FILE = join(ROOT, 'scenarios', 'scenario.schema.json');

type JsonSchema = Record<string, unknown>;

interface DefMeta {
  id: string;
  description: string;
}

/** `token_delta` → `TokenDelta`. */
function pascal(snake: string): string {
  return snake
    .split(/[_.]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** Names of the per-type definitions, so documents and generated clients can point at one event type. */
export function eventDefName(type: EmittedEventType): string {
  return `${pascal(type)}Event`;
}
export function payloadDefName(type: EmittedEventType): string {
  return `${pascal(type)}Payload`;
}

/**
 * Every schema that becomes a named `$defs` entry. zod replaces each occurrence of a registered
 * schema with a `$ref`, so registering the parts (payloads, commands, frames) keeps the unions readable.
 */
function definitions(): [z.ZodType, DefMeta][] {
  const defs: [z.ZodType, DefMeta][] = [
    [
      EventEnvelope,
      {
        id: 'EventEnvelope',
        description: `Envelope version ${ENVELOPE_VERSION}: every event the runtime emits, discriminated by \`type\`.`,
      },
    ],
    [Command, { id: 'Command', description: 'Every command a client sends, discriminated by `type`.' }],
    [
      ControlFrame,
      {
        id: 'ControlFrame',
        description: 'Server frames that are not events: `result`, `error` and `subscription.ended`.',
      },
    ],
    [
      ServerFrame,
      {
        id: 'ServerFrame',
        description:
          'Any frame the server sends: a control frame, an event batch (clients that asked for one) or an event envelope. Event types never contain a dot.',
      },
    ],
    [
      ResultFrame,
      {
        id: 'ResultFrame',
        description: "Answers a command; `result` has the shape of the command's *Result definition.",
      },
    ],
    [
      ErrorFrame,
      {
        id: 'ErrorFrame',
        description: 'Refuses a command, or reports a frame that could not be read (`id` null).',
      },
    ],
    [
      SubscriptionEndedFrame,
      {
        id: 'SubscriptionEndedFrame',
        description: 'A subscription ended on its own (overflow). Resubscribe from `last_seq + 1`.',
      },
    ],
    [
      EventBatchFrame,
      {
        id: 'EventBatchFrame',
        description: 'Several events in seq order, for a client that said `batch: true` in hello.',
      },
    ],
    [
      ProtocolError,
      { id: 'ProtocolError', description: 'A machine-readable error: stable `code`, human `message`.' },
    ],
    [ProtocolError.shape.code, { id: 'ErrorCode', description: 'Every error code of the protocol.' }],
    [ModelRef, { id: 'ModelRef', description: 'Names a model: backend kind and model id within it.' }],
    [
      OverflowPolicy,
      { id: 'OverflowPolicy', description: 'What a subscription does when its client cannot keep up.' },
    ],
    [
      RejectReason,
      { id: 'RejectReason', description: 'Why `turn.start` was answered with `turn_rejected`.' },
    ],
    [CancelReason, { id: 'CancelReason', description: 'Why a turn was cancelled.' }],
    [HelloCommand, { id: 'HelloCommand', description: 'First command of every connection.' }],
    [AuthPairCommand, { id: 'AuthPairCommand', description: 'Mints a one-time pairing link for a browser.' }],
    [SessionCreateCommand, { id: 'SessionCreateCommand', description: 'Creates a session with an NPC.' }],
    [SessionListCommand, { id: 'SessionListCommand', description: 'Lists the sessions of this runtime.' }],
    [
      SessionEventsCommand,
      { id: 'SessionEventsCommand', description: "Reads a page of a session's buffered events." },
    ],
    [
      SessionSubscribeCommand,
      { id: 'SessionSubscribeCommand', description: "Subscribes to a session's events." },
    ],
    [
      SessionUnsubscribeCommand,
      { id: 'SessionUnsubscribeCommand', description: 'Ends this client’s subscription.' },
    ],
    [TurnStartCommand, { id: 'TurnStartCommand', description: 'Starts a turn: the player says a line.' }],
    [TurnCancelCommand, { id: 'TurnCancelCommand', description: 'Cancels the active turn.' }],
    [HelloResult, { id: 'HelloResult', description: 'Result of `hello`.' }],
    [
      AuthPairResult,
      { id: 'AuthPairResult', description: 'Result of `auth.pair`: a one-time inspector link.' },
    ],
    [
      SessionSummary,
      {
        id: 'SessionSummary',
        description: 'One session. Also the result of `session.create` (SessionCreateResult).',
      },
    ],
    [SessionListResult, { id: 'SessionListResult', description: 'Result of `session.list`.' }],
    [SessionEventsResult, { id: 'SessionEventsResult', description: 'Result of `session.events`.' }],
    [SessionSubscribeResult, { id: 'SessionSubscribeResult', description: 'Result of `session.subscribe`.' }],
    [
      SessionUnsubscribeResult,
      { id: 'SessionUnsubscribeResult', description: 'Result of `session.unsubscribe`.' },
    ],
    [TurnStartResult, { id: 'TurnStartResult', description: 'Result of `turn.start`.' }],
    [TurnCancelResult, { id: 'TurnCancelResult', description: 'Result of `turn.cancel`.' }],
    [
      ScenarioListCommand,
      { id: 'ScenarioListCommand', description: 'Lists the scenarios sessions can play.' },
    ],
    [WorldGetCommand, { id: 'WorldGetCommand', description: "Reads a session's committed world state." }],
    [
      LedgerCommitsCommand,
      { id: 'LedgerCommitsCommand', description: "Reads a session's ledger records (provenance), paged." },
    ],
    [
      LedgerVerifyCommand,
      {
        id: 'LedgerVerifyCommand',
        description: 'Verifies the hash chain and replays world state from the ledger.',
      },
    ],
    [
      SessionExportCommand,
      { id: 'SessionExportCommand', description: 'Exports a session as one JSON bundle.' },
    ],
    [
      SessionForkCommand,
      {
        id: 'SessionForkCommand',
        description:
          'Starts a new session from a committed turn of another (its result is a SessionSummary).',
      },
    ],
    [
      ForkOrigin,
      { id: 'ForkOrigin', description: 'Where a forked session starts: a session and one of its commits.' },
    ],
    [AgentsConfigGetCommand, { id: 'AgentsConfigGetCommand', description: 'Reads the agent plane flags.' }],
    [
      AgentsConfigSetCommand,
      { id: 'AgentsConfigSetCommand', description: 'Changes agent plane flags (from the next turn).' },
    ],
    [
      AgentsPressureSetCommand,
      { id: 'AgentsPressureSetCommand', description: 'Forces the pressure level, or releases it (null).' },
    ],
    [
      AgentsStatusCommand,
      { id: 'AgentsStatusCommand', description: 'Reads pressure, streams and the rollout gates.' },
    ],
    [
      AgentCancelCommand,
      { id: 'AgentCancelCommand', description: 'Cancels one running or queued agent stream.' },
    ],
    [
      AgentsConfigResult,
      { id: 'AgentsConfigResult', description: 'Result of `agents.config.get` and `agents.config.set`.' },
    ],
    [AgentsStatusResult, { id: 'AgentsStatusResult', description: 'Result of `agents.status`.' }],
    [RESULT_SCHEMAS['agent.cancel'], { id: 'AgentCancelResult', description: 'Result of `agent.cancel`.' }],
    [
      ModelsStatusCommand,
      { id: 'ModelsStatusCommand', description: 'Reads the warm pool: limits and every model.' },
    ],
    [ModelsListCommand, { id: 'ModelsListCommand', description: 'Discovers the models the backends offer.' }],
    [
      ModelsConfigSetCommand,
      { id: 'ModelsConfigSetCommand', description: 'Changes the pool limits (at once).' },
    ],
    [
      ModelsLoadCommand,
      { id: 'ModelsLoadCommand', description: 'Loads a model ahead of need (manual prewarm).' },
    ],
    [ModelsUnloadCommand, { id: 'ModelsUnloadCommand', description: 'Unloads an idle model now.' }],
    [
      ModelsHintCommand,
      { id: 'ModelsHintCommand', description: 'A client hint that may prewarm an NPC model.' },
    ],
    [
      NpcSettingsGetCommand,
      { id: 'NpcSettingsGetCommand', description: "Reads each NPC's model and sampling." },
    ],
    [
      NpcSettingsSetCommand,
      {
        id: 'NpcSettingsSetCommand',
        description: "Changes an NPC's model or sampling (from its next turn).",
      },
    ],
    [ModelPoolStatus, { id: 'ModelPoolStatus', description: 'Result of `models.status`.' }],
    [
      ModelPoolConfig,
      { id: 'ModelPoolConfig', description: 'Warm pool limits; result of `models.config.set`.' },
    ],
    [ModelsListResult, { id: 'ModelsListResult', description: 'Result of `models.list`.' }],
    [
      DiscoveredModel,
      { id: 'DiscoveredModel', description: 'A model found by discovery, or why it is unusable.' },
    ],
    [ModelsHintResult, { id: 'ModelsHintResult', description: 'Result of `models.hint`.' }],
    [
      NpcModelSetting,
      { id: 'NpcModelSetting', description: "An NPC's model and sampling, and where they come from." },
    ],
    [
      PressureStatus,
      {
        id: 'PressureStatus',
        description: 'Pressure level, signals, override. Result of `agents.pressure.set`.',
      },
    ],
    [AgentStreamConfig, { id: 'AgentStreamConfig', description: 'The agent plane flags.' }],
    [
      AgentAdmission,
      { id: 'AgentAdmission', description: 'Policy and scheduler answer to one intent request.' },
    ],
    [AgentEnvelope, { id: 'AgentEnvelope', description: 'What an agent stream hands to the merge arbiter.' }],
    [ArbiterVerdict, { id: 'ArbiterVerdict', description: "The merge arbiter's verdict on one envelope." }],
    [RolloutGate, { id: 'RolloutGate', description: 'One computed rollout stage-gate check.' }],
    [ScenarioListResult, { id: 'ScenarioListResult', description: 'Result of `scenario.list`.' }],
    [WorldGetResult, { id: 'WorldGetResult', description: 'Result of `world.get`.' }],
    [LedgerCommitsResult, { id: 'LedgerCommitsResult', description: 'Result of `ledger.commits`.' }],
    [
      LedgerVerifyResult,
      { id: 'LedgerVerifyResult', description: 'Result of `ledger.verify` (a VerifyReport).' },
    ],
    [
      SessionBundle,
      { id: 'SessionBundle', description: 'Result of `session.export`: a session as a portable bundle.' },
    ],
    [Action, { id: 'Action', description: 'An action an NPC proposes (docs/actions.md).' }],
    [ProposalError, { id: 'ProposalError', description: 'An action line that could not be read.' }],
    [Verdict, { id: 'Verdict', description: "One governance rule's judgement of a commit attempt." }],
    [PatchOperation, { id: 'PatchOperation', description: 'One RFC 6902 JSON Patch operation.' }],
    [WorldState, { id: 'WorldState', description: 'The mutable part of a world.' }],
    [CommitSummary, { id: 'CommitSummary', description: 'One ledger record as clients see it.' }],
    [ScenarioSummary, { id: 'ScenarioSummary', description: 'A scenario as clients see it.' }],
  ];
  for (const variant of EventEnvelope.options) {
    const type = variant.shape.type.value;
    defs.push([
      variant,
      { id: eventDefName(type), description: `A \`${type}\` event (${variant.shape.class.value}).` },
    ]);
    defs.push([PAYLOAD_SCHEMAS[type], { id: payloadDefName(type), description: `Payload of \`${type}\`.` }]);
  }
  return defs;
}

/** Keyword order of the output; keywords not listed follow, sorted. */
const KEYWORD_ORDER = [
  '$schema',
  '$id',
  '$comment',
  'title',
  'description',
  '$ref',
  'type',
  'const',
  'enum',
  'default',
  'format',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'multipleOf',
  'properties',
  'required',
  'propertyNames',
  'patternProperties',
  'additionalProperties',
  'prefixItems',
  'items',
  'minItems',
  'maxItems',
  'oneOf',
  'anyOf',
  'allOf',
  'not',
  '$defs',
];
const keywordRank = new Map(KEYWORD_ORDER.map((k, i) => [k, i]));

/** Keywords whose value is one subschema; those whose value is an array of subschemas; name → subschema maps. */
const SUBSCHEMA = new Set(['additionalProperties', 'propertyNames', 'items', 'not']);
const SUBSCHEMA_ARRAY = new Set(['oneOf', 'anyOf', 'allOf', 'prefixItems']);
const SUBSCHEMA_MAP = new Set(['properties', 'patternProperties', '$defs']);

function isRecord(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compareKeywords(a: string, b: string): number {
  const ra = keywordRank.get(a) ?? KEYWORD_ORDER.length;
  const rb = keywordRank.get(b) ?? KEYWORD_ORDER.length;
  return ra !== rb ? ra - rb : a < b ? -1 : a > b ? 1 : 0;
}

/** Rebuilds a schema with keywords in the fixed order. Data (`const`, `enum`, `default`) is left as is. */
function ordered(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const key of Object.keys(schema).sort(compareKeywords)) {
    const value = schema[key];
    if (SUBSCHEMA.has(key) && isRecord(value)) out[key] = ordered(value);
    else if (SUBSCHEMA_ARRAY.has(key) && Array.isArray(value))
      out[key] = value.map((v: unknown) => (isRecord(v) ? ordered(v) : v));
    else if (SUBSCHEMA_MAP.has(key) && isRecord(value)) {
      // Property order is meaningful (it follows the zod source); only $defs is sorted by name.
      const names = key === '$defs' ? Object.keys(value).sort() : Object.keys(value);
      const map: JsonSchema = {};
      for (const name of names) {
        const sub = value[name];
        map[name] = isRecord(sub) ? ordered(sub) : sub;
      }
      out[key] = map;
    } else out[key] = value;
  }
  return out;
}

function convert(io: 'input' | 'output'): Record<string, JsonSchema> {
  const registry = z.registry<DefMeta>();
  for (const [schema, meta] of definitions()) registry.add(schema, meta);
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'throw',
    metadata: registry,
    uri: (id) => `#/$defs/${id}`,
  });
  const defs: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    // Each registry entry comes out as a standalone document; inside one document they are plain $defs.
    const { $schema: _schema, $id: _id, ...rest } = schema as JsonSchema;
    defs[id] = rest;
  }
  return defs;
}

/** Definitions of what clients send; every other definition describes what the server sends. */
const isClientDef = (id: string): boolean => id === 'Command' || id.endsWith('Command');

/** Drops `additionalProperties: false`, which zod adds to every object in `output` mode. */
function open(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(open);
  if (!isRecord(value)) return value;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(value))
    if (!(k === 'additionalProperties' && v === false)) out[k] = open(v);
  return out;
}

/**
 * Builds the whole schema document. Pure: the same zod schemas give the same object.
 *
 * Commands are converted with zod's `input` view: as clients may send them (`from_seq` and
 * `overflow_policy` optional, because they have defaults). Server frames are converted with the
 * `output` view, what the server actually sends (defaulted fields present), with objects left open
 * (unknown properties allowed): a v1 client must accept fields added later.
 */
export function buildProtocolSchema(): JsonSchema {
  const received = convert('input');
  const sent = convert('output');
  const defs: Record<string, JsonSchema> = {};
  for (const [id, def] of Object.entries(received)) {
    const asSent = sent[id];
    if (isClientDef(id) || asSent === undefined) defs[id] = def;
    // What the server sends: defaults are filled in (e.g. an action's `count`), objects stay open.
    else defs[id] = open(asSent) as JsonSchema;
  }
  return ordered({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://parley.invalid/protocol/v1/protocol.schema.json',
    $comment:
      'Generated by scripts/gen-schema.ts from src/shared/*.ts. Do not edit: run `npm run gen:schema`.',
    title: `Parley WebSocket protocol ${PROTOCOL_VERSION} (envelope v${ENVELOPE_VERSION})`,
    description:
      'Frames on ws://127.0.0.1:PORT/v1/stream. Clients send `Command`; the server sends `ServerFrame` ' +
      '(`ControlFrame` or `EventEnvelope`). See docs/protocol.md.',
    anyOf: [{ $ref: '#/$defs/Command' }, { $ref: '#/$defs/ServerFrame' }],
    $defs: defs,
  });
}

export function renderProtocolSchema(): string {
  return `${JSON.stringify(buildProtocolSchema(), null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------
// Scenario file format

/** Parts of the scenario format that become named `$defs` (shared, and readable in an editor's hover). */
function scenarioDefinitions(): [z.ZodType, DefMeta][] {
  return [
    [Id, { id: 'Id', description: 'An id: lowercase letters, digits, _ or -, starting with a letter.' }],
    [FlagValue, { id: 'FlagValue', description: 'A flag value: boolean, integer or string.' }],
    [QuestStatus, { id: 'QuestStatus', description: 'Where a quest stands.' }],
    [
      ActionKindSchema,
      { id: 'ActionKind', description: 'A kind of action an NPC may propose (docs/actions.md).' },
    ],
    [ModelRef, { id: 'ModelRef', description: 'Names a model: backend kind and model id within it.' }],
    [
      Character,
      { id: 'Character', description: 'A character of the world: the player, an NPC, or neither.' },
    ],
    [Item, { id: 'Item', description: 'A kind of item characters can hold.' }],
    [
      InventorySpec,
      { id: 'Inventory', description: "A character's starting coin and items (item id → count)." },
    ],
    [
      Conditions,
      {
        id: 'Conditions',
        description: 'Conditions on the world before the turn; all listed ones must hold.',
      },
    ],
    [
      Quest,
      {
        id: 'Quest',
        description: 'A quest: `requires` must hold for start_quest, `completion` for complete_quest.',
      },
    ],
    [
      Npc,
      {
        id: 'Npc',
        description: 'An NPC the player can talk to: who it plays, its model and what it may do.',
      },
    ],
    [NpcSampling, { id: 'NpcSampling', description: 'Sampling settings for the NPC’s model.' }],
    [
      NpcGovernance,
      {
        id: 'NpcGovernance',
        description: "Per-turn limits the governance rules hold the NPC's proposals to.",
      },
    ],
    [
      ScriptedModel,
      {
        id: 'ScriptedModel',
        description: 'A deterministic stand-in model (backend `scripted`): keyword replies and fallbacks.',
      },
    ],
    [
      ScriptedReply,
      {
        id: 'ScriptedReply',
        description:
          "Said when the player's lowercased line contains one of `when`; the first matching reply wins.",
      },
    ],
  ];
}

/**
 * Builds the scenario file schema: the file as designers write it (zod `input`: defaulted fields
 * optional, defaults shown). Cross-reference checks (every id used must be defined) are code, not
 * JSON Schema; the loader reports those.
 */
export function buildScenarioSchema(): JsonSchema {
  const registry = z.registry<DefMeta>();
  for (const [schema, meta] of scenarioDefinitions()) registry.add(schema, meta);
  const { $schema: _schema, ...body } = z.toJSONSchema(Scenario, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'throw',
    metadata: registry,
  }) as JsonSchema;
  return ordered({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://parley.invalid/scenario/v${SCENARIO_FORMAT}/scenario.schema.json`,
    $comment:
      'Generated by scripts/gen-schema.ts from src/shared/scenario.ts. Do not edit: run `npm run gen:schema`.',
    title: `Parley scenario file, format ${SCENARIO_FORMAT}`,
    description:
      'A world and the NPCs a player can talk to in it. See scenarios/README.md. References between ' +
      'ids (characters, items, flags, quests, NPCs, scripted models) are checked by the loader, not here.',
    ...body,
  });
}

export function renderScenarioSchema(): string {
  return `${JSON.stringify(buildScenarioSchema(), null, 2)}\n`;
}

/** Every generated file, with what it is derived from (for messages). */
const OUTPUTS: readonly { file: string; render: () => string; source: string }[] = [
  { file: SCHEMA_FILE, render: renderProtocolSchema, source: 'the zod schemas in src/shared' },
  { file: SCENARIO_SCHEMA_FILE, render: renderScenarioSchema, source: 'src/shared/scenario.ts' },
];

function main(argv: readonly string[]): number {
  const check = argv.includes('--check');
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    process.stderr.write(
      `gen-schema: unknown argument(s) ${unknown.join(' ')}\nUsage: tsx scripts/gen-schema.ts [--check]\n`,
    );
    return 2;
  }
  let status = 0;
  for (const { file, render, source } of OUTPUTS) {
    const shown = relative(process.cwd(), file) || file;
    let text: string;
    try {
      text = render();
    } catch (err) {
      // One broken output must not hide the state of the others.
      process.stderr.write(`gen-schema: cannot generate ${shown}: ${(err as Error).message}\n`);
      status = 1;
      continue;
    }
    if (!check) {
      writeFileSync(file, text);
      process.stdout.write(`wrote ${shown}\n`);
      continue;
    }
    const committed = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (committed === text) {
      process.stdout.write(`${shown} is up to date.\n`);
      continue;
    }
    process.stderr.write(
      committed === undefined
        ? `${shown} is missing. Run \`npm run gen:schema\` and commit the result.\n`
        : `${shown} is out of date with ${source}. Run \`npm run gen:schema\` and commit the result.\n`,
    );
    status = 1;
  }
  return status;
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href)
  process.exitCode = main(process.argv.slice(2));
