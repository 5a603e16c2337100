/**
 * Reads scenario files (format in scenarios/README.md) and says precisely what is wrong with a bad
 * one: the file, the path inside it, line:column when there is text, and what was expected.
 *
 * A scenario's identity is its content hash: SHA-256 over the canonical JSON of the file's value
 * as written (before zod defaults), so reformatting or reordering keys does not change it, while a
 * changed default in a later Parley version cannot silently change what an old ledger replays.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { z } from 'zod';
import { Scenario, type ScenarioSummary } from '../../../shared/scenario';
import { canonicalJson, sha256Hex } from '../core/hash';

export interface LoadedScenario {
  /** Parsed by the zod schema, defaults applied. */
  readonly scenario: Scenario;
  /** SHA-256 over `canonical`. */
  readonly contentHash: string;
  /** Canonical JSON of the value as written (before defaults): what the ledger stores. */
  readonly canonical: string;
  /** File path, or `builtin:<id>`. */
  readonly source: string;
}

export interface ScenarioIssue {
  /**
   * Where in the document, like `npcs.mira.model.backend` or
   * `world.quests.rats.requires.quests_completed[0]`; '' for the file as a whole.
   */
  readonly path: string;
  /** 1-based, when the scenario was read from text. */
  readonly line?: number;
  /** 1-based, in UTF-16 code units, when the scenario was read from text. */
  readonly column?: number;
  readonly message: string;
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';

  constructor(
    readonly source: string,
    readonly issues: readonly ScenarioIssue[],
    /** First line after `<source>: `; by default `invalid scenario (N problems)`. */
    headline = `invalid scenario (${plural(issues.length, 'problem')})`,
  ) {
    super([`${source}: ${headline}`, ...issues.map((i) => `  ${formatIssue(source, i)}`)].join('\n'));
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `<source>:<line>:<col> <path>: <message>`; `<source>[:<line>:<col>]: <message>` for the file as a whole. */
function formatIssue(source: string, issue: ScenarioIssue): string {
  const where = issue.line === undefined ? source : `${source}:${issue.line}:${issue.column ?? 1}`;
  return issue.path === '' ? `${where}: ${issue.message}` : `${where} ${issue.path}: ${issue.message}`;
}

type Segment = string | number;

/** `['npcs', 'mira', 'model']` → `npcs.mira.model`; array indices as `[0]`, odd keys quoted. */
export function formatPath(path: readonly Segment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_$-]+$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Positions

interface Position {
  readonly line: number;
  readonly column: number;
}

/** Maps offsets of one text to 1-based line:column. */
function positions(text: string): (offset: number) => Position {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (starts[lo] ?? 0) + 1 };
  };
}

/**
 * The offset of `path` in `root`, or of its nearest ancestor that exists (a missing property is
 * reported where it belongs). `atKey` points at the property's key rather than its value.
 */
function locate(root: Node, path: readonly Segment[], atKey: boolean): number {
  for (let n = path.length; n >= 0; n--) {
    const node = findNodeAtLocation(root, path.slice(0, n));
    if (node === undefined) continue;
    const parent = node.parent;
    return atKey && n === path.length && parent?.type === 'property' ? parent.offset : node.offset;
  }
  return root.offset;
}

// ---------------------------------------------------------------------------------------------
// JSON syntax

const SYNTAX_MESSAGES: Partial<Record<ReturnType<typeof printParseErrorCode>, string>> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':'",
  CommaExpected: "expected ',' between values",
  CloseBraceExpected: "expected ',' or '}'",
  CloseBracketExpected: "expected ',' or ']'",
  EndOfFileExpected: 'expected the end of the file after the top-level value',
  InvalidCommentToken: 'comments are not allowed (scenario files are strict JSON)',
  UnexpectedEndOfComment: 'unterminated comment (and comments are not allowed)',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'invalid character in string (control characters must be escaped)',
};

function syntaxMessage(text: string, error: ParseError): string {
  const base = SYNTAX_MESSAGES[printParseErrorCode(error.error)] ?? 'invalid JSON';
  if (error.offset >= text.length) return `JSON syntax error: ${base} (the file ends too early)`;
  const before = text.slice(0, error.offset).trimEnd();
  const next = text[error.offset];
  // jsonc-parser reports a trailing comma as a missing property name or value at the closing bracket.
  if (before.endsWith(',') && (next === '}' || next === ']'))
    return 'JSON syntax error: trailing commas are not allowed (scenario files are strict JSON)';
  return `JSON syntax error: ${base}`;
}

/** Keys written twice in one object: JSON keeps the last, which hides the first. Each is a problem. */
function duplicateKeys(
  root: Node,
  at: (offset: number) => Position,
): { offset: number; issue: ScenarioIssue }[] {
  const found: { offset: number; issue: ScenarioIssue }[] = [];
  const walk = (node: Node, path: Segment[]): void => {
    if (node.type === 'object') {
      const seen = new Map<string, number>();
      for (const prop of node.children ?? []) {
        const [keyNode, value] = prop.children ?? [];
        if (keyNode === undefined) continue;
        const key = String(keyNode.value);
        const first = seen.get(key);
        if (first !== undefined) {
          const pos = at(prop.offset);
          found.push({
            offset: prop.offset,
            issue: {
              path: formatPath([...path, key]),
              ...pos,
              message: `duplicate key "${key}" (first at ${at(first).line}:${at(first).column}); JSON keeps only the last`,
            },
          });
        } else seen.set(key, prop.offset);
        if (value !== undefined) walk(value, [...path, key]);
      }
    } else if (node.type === 'array')
      (node.children ?? []).forEach((child, i) => {
        walk(child, [...path, i]);
      });
  };
  walk(root, []);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Validation

type Issue = z.core.$ZodIssue;

/** Where a text came from, so zod issues can be placed in it. */
interface TextContext {
  readonly root: Node;
  readonly at: (offset: number) => Position;
}

interface Placed {
  readonly offset: number;
  readonly issue: ScenarioIssue;
}

const TYPE_NAMES: Record<string, string> = { int: 'integer' };

/** What the document holds at a path: `present` false when the path leads nowhere. */
interface Found {
  readonly present: boolean;
  readonly value: unknown;
}

function valueAt(root: unknown, path: readonly Segment[]): Found {
  let value = root;
  for (const seg of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, seg))
      return { present: false, value: undefined };
    value = (value as Record<string | number, unknown>)[seg];
  }
  return { present: true, value };
}

function jsonType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/** zod's message, made to say what was found where zod's alone would not. */
function describe(issue: Issue, found: Found): string {
  switch (issue.code) {
    case 'invalid_type':
      return found.present
        ? issue.message
        : `missing required property (expected ${TYPE_NAMES[issue.expected] ?? issue.expected})`;
    case 'invalid_value':
      return found.present ? `${issue.message} (got ${JSON.stringify(found.value)})` : issue.message;
    case 'invalid_union': {
      // A union of primitives (flag values): name every alternative instead of zod's bare "Invalid input".
      const expected = issue.errors.map((branch) =>
        branch.length === 1 && branch[0]?.code === 'invalid_type' && branch[0].path.length === 0
          ? branch[0].expected
          : undefined,
      );
      if (expected.every((e) => e !== undefined)) {
        const alternatives = `${expected.slice(0, -1).join(', ')} or ${expected.at(-1) ?? ''}`;
        return `expected ${alternatives}, received ${found.present ? jsonType(found.value) : 'nothing'}`;
      }
      return issue.message;
    }
    case 'invalid_key':
      return `invalid key: ${issue.issues.map((i) => i.message).join('; ')}`;
    default:
      return issue.message;
  }
}

/** The keys a strict object of the scenario schema accepts at `path`, for "unknown key" messages. */
function allowedKeys(path: readonly Segment[]): string[] | undefined {
  let schema: z.ZodType = Scenario;
  for (const seg of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject && typeof seg === 'string') schema = schema.shape[seg] as z.ZodType;
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else return undefined;
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : undefined;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  return s;
}

/** Turns zod issues into scenario issues, one per unknown key, placed in the text when there is one. */
function toIssues(issues: readonly Issue[], value: unknown, text: TextContext | undefined): Placed[] {
  const place = (path: readonly Segment[], atKey: boolean, message: string): Placed => {
    const issue = { path: formatPath(path), message };
    if (text === undefined) return { offset: Number.MAX_SAFE_INTEGER, issue };
    // A path that is not in the text (a missing property) is placed at its nearest ancestor.
    const offset = locate(text.root, path, atKey);
    return { offset, issue: { ...issue, ...text.at(offset) } };
  };
  return issues.flatMap((issue) => {
    const path = issue.path.filter((s): s is Segment => typeof s !== 'symbol');
    if (issue.code !== 'unrecognized_keys')
      return [place(path, issue.code === 'invalid_key', describe(issue, valueAt(value, path)))];
    const allowed = allowedKeys(path);
    const known = allowed === undefined ? '' : `; allowed here: ${allowed.join(', ')}`;
    return issue.keys.map((key) => place([...path, key], true, `unknown key "${key}"${known}`));
  });
}

function validate(
  value: unknown,
  source: string,
  text: TextContext | undefined,
  extra: Placed[] = [],
): LoadedScenario {
  const parsed = Scenario.safeParse(value);
  const problems = [...extra, ...(parsed.success ? [] : toIssues(parsed.error.issues, value, text))];
  if (!parsed.success || problems.length > 0)
    throw new ScenarioError(
      source,
      // Stable sort: problems in file order; without text, in zod's (schema) order.
      problems.sort((a, b) => a.offset - b.offset).map((p) => p.issue),
    );
  let canonical: string;
  try {
    canonical = canonicalJson(value);
  } catch (err) {
    throw new ScenarioError(source, [{ path: '', message: `not a JSON value: ${(err as Error).message}` }]);
  }
  return { scenario: parsed.data, contentHash: sha256Hex(canonical), canonical, source };
}

interface ParsedText {
  readonly loaded: LoadedScenario;
  /** line:column of a path in the text, for errors found after parsing (duplicate ids). */
  readonly position: (path: readonly Segment[]) => Position;
}

function parseText(text: string, source: string): ParsedText {
  // Editors on Windows may write a byte-order mark; it is not part of the JSON (and not a column).
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const at = positions(body);
  const errors: ParseError[] = [];
  const root = parseTree(body, errors, {
    disallowComments: true,
    allowTrailingComma: false,
    allowEmptyContent: false,
  });
  const first = errors[0];
  if (first !== undefined || root === undefined) {
    const offset = first?.offset ?? 0;
    const message = first === undefined ? 'JSON syntax error: expected a value' : syntaxMessage(body, first);
    throw new ScenarioError(source, [{ path: '', ...at(offset), message }]);
  }
  let value: unknown;
  try {
    // The tree is for positions; the value is what JSON.parse makes of the text, exactly.
    value = JSON.parse(body);
  } catch (err) {
    throw new ScenarioError(source, [
      { path: '', ...at(0), message: `JSON syntax error: ${(err as Error).message}` },
    ]);
  }
  const context: TextContext = { root, at };
  return {
    loaded: validate(value, source, context, duplicateKeys(root, at)),
    position: (path) => at(locate(root, path, false)),
  };
}

// ---------------------------------------------------------------------------------------------
// Public API

/** Parses a scenario file's text: strict JSON (no comments, no trailing commas). Throws ScenarioError. */
export function parseScenarioText(text: string, source: string): LoadedScenario {
  return parseText(text, source).loaded;
}

/** Validates an already-parsed JSON value (built-ins, a scenario stored in the ledger). Throws ScenarioError. */
export function parseScenarioValue(value: unknown, source: string): LoadedScenario {
  return validate(value, source, undefined);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory, not a file'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : (err as Error).message;
    throw new ScenarioError(file, [{ path: '', message: reason }], 'cannot read scenario file');
  }
}

/** Reads and parses one scenario file. Throws ScenarioError (also for a missing or unreadable file). */
export function loadScenarioFile(file: string): LoadedScenario {
  return parseText(readText(file), file).loaded;
}

export const SCENARIO_FILE_SUFFIX = '.scenario.json';

/**
 * Loads every `*.scenario.json` file directly in `dir`, sorted by file name. Throws the first
 * file's ScenarioError, or one naming both files when two share a scenario id.
 */
export function loadScenarioDir(dir: string): LoadedScenario[] {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(SCENARIO_FILE_SUFFIX))
      .map((e) => e.name)
      // Code-unit order, not locale order: the same on every machine.
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such directory'
        : code === 'ENOTDIR'
          ? 'not a directory'
          : (err as Error).message;
    throw new ScenarioError(dir, [{ path: '', message: reason }], 'cannot read scenario directory');
  }
  const byId = new Map<string, string>();
  const loaded: LoadedScenario[] = [];
  for (const name of names) {
    const file = join(dir, name);
    const { loaded: one, position } = parseText(readText(file), file);
    const id = one.scenario.id;
    const other = byId.get(id);
    if (other !== undefined)
      throw new ScenarioError(
        file,
        [{ path: 'id', ...position(['id']), message: `scenario id "${id}" is already used by ${other}` }],
        `duplicate scenario id "${id}" (also in ${other})`,
      );
    byId.set(id, file);
    loaded.push(one);
  }
  return loaded;
}

/** What clients see of a loaded scenario. */
export function summarizeScenario(loaded: LoadedScenario): ScenarioSummary {
  const s = loaded.scenario;
  const { characters, items, quests } = s.world;
  const names = <T, U>(table: Record<string, T>, pick: (v: T) => U): Record<string, U> =>
    Object.fromEntries(Object.entries(table).map(([id, v]) => [id, pick(v)]));
  return {
    scenario_id: s.id,
    title: s.title,
    description: s.description,
    content_hash: loaded.contentHash,
    default_npc: s.default_npc,
    player: s.player,
    currency: s.world.currency.name,
    npcs: Object.entries(s.npcs).map(([npc_id, npc]) => ({
      npc_id,
      name: characters[npc.character]?.name ?? npc.character,
      model: { backend: npc.model.backend, model_id: npc.model.model_id },
      actions: [...npc.actions],
    })),
    characters: names(characters, (c) => ({ name: c.name })),
    items: names(items, (i) => ({ name: i.name })),
    quests: names(quests, (q) => ({ title: q.title })),
  };
}
