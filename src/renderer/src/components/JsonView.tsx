/**
 * A JSON value as an indented tree: objects and arrays fold (`details`), leaves are JSON literals, so
 * what is shown reads (and copies) as the payload the runtime sent.
 */
export function JsonView({ value }: { value: unknown }) {
  return (
    <div className="json" data-testid="json-view">
      <JsonNode value={value} name={null} last depth={0} />
    </div>
  );
}

/** Nested values below this depth start folded, so a deep payload opens at a readable size. */
const OPEN_DEPTH = 2;

function JsonNode({
  value,
  name,
  last,
  depth,
}: {
  value: unknown;
  name: string | null;
  last: boolean;
  depth: number;
}) {
  const key = name === null ? null : <span className="json__key">{JSON.stringify(name)}: </span>;
  const comma = last ? '' : ',';
  if (typeof value !== 'object' || value === null) {
    return (
      <div className="json__line">
        {key}
        <span className={`json__value json__value--${value === null ? 'null' : typeof value}`}>
          {(JSON.stringify(value) as string | undefined) ?? 'undefined'}
        </span>
        {comma}
      </div>
    );
  }
  const isArray = Array.isArray(value);
  const items: [string | null, unknown][] = isArray
    ? (value as unknown[]).map((v) => [null, v])
    : Object.entries(value);
  const [open, close] = isArray ? ['[', ']'] : ['{', '}'];
  if (items.length === 0) {
    return (
      <div className="json__line">
        {key}
        {open}
        {close}
        {comma}
      </div>
    );
  }
  return (
    <details className="json__node" open={depth < OPEN_DEPTH}>
      <summary className="json__line">
        {key}
        {open}
        <span className="json__fold">
          {' '}
          {items.length} {isArray ? 'items' : 'keys'} {close}
          {comma}
        </span>
      </summary>
      <div className="json__children">
        {items.map(([childName, child], i) => (
          <JsonNode
            key={childName ?? i}
            value={child}
            name={childName}
            last={i === items.length - 1}
            depth={depth + 1}
          />
        ))}
      </div>
      <div className="json__line">
        {close}
        {comma}
      </div>
    </details>
  );
}
