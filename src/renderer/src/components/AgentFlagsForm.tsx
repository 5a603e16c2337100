import { FormActions } from './FormActions';
import { useDraft } from './use-draft';
import type { AgentsConfigResult } from '../../../shared/commands';
import { useInspector } from '../app/context';
import { draftChanges, FLAG_FIELDS, flagValue, type FlagDraft, type FlagField } from './agent-config-draft';

/**
 * The numeric and boolean agent flags. Edits stay local until Apply, which sends only the flags that
 * changed; the runtime checks ranges, and its refusal shows here with whatever the form itself found.
 */
export function AgentFlagsForm({
  config,
  setError,
}: {
  config: AgentsConfigResult;
  setError: string | null;
}) {
  const inspector = useInspector();
  const { draft, setDraft, sending, send } = useDraft<FlagDraft>();
  const { changes, errors } = draftChanges(config.config, draft);
  const changed = Object.keys(changes).length;
  const problems = setError === null ? errors : [setError, ...errors];

  const apply = async () => {
    if (changed === 0 || errors.length > 0) return;
    await send(() => inspector.setAgentConfig(changes));
  };

  return (
    // noValidate: out-of-range values go to the runtime, whose answer names the limits.
    <form
      className="agent-flags"
      aria-label="Agent flags"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void apply();
      }}
    >
      {FLAG_FIELDS.map((field) => (
        <FlagInput
          key={field.key}
          field={field}
          value={flagValue(config.config, draft, field.key)}
          schemaDefault={config.defaults[field.key]}
          edited={field.key in changes}
          onChange={(value) => {
            setDraft((d) => ({ ...d, [field.key]: value }));
          }}
        />
      ))}
      <FormActions
        errors={problems}
        errorTestId="agent-config-error"
        applyTestId="agent-config-apply"
        changed={changed}
        sending={sending}
        resetDisabled={sending || Object.keys(draft).length === 0}
        onReset={() => {
          setDraft({});
        }}
      />
    </form>
  );
}

interface FlagInputProps {
  field: FlagField;
  value: string | boolean;
  schemaDefault: number | boolean;
  edited: boolean;
  onChange: (value: string | boolean) => void;
}

function FlagInput({ field, value, schemaDefault, edited, onChange }: FlagInputProps) {
  const hint =
    field.kind === 'number' && field.min !== null && field.max !== null
      ? `${field.min}–${field.max}, default ${schemaDefault}`
      : `default ${String(schemaDefault)}`;
  return (
    <label className={`agent-flag${edited ? ' agent-flag--edited' : ''}`}>
      <span className="agent-flag__label" title={field.key}>
        {field.label}
      </span>
      {field.kind === 'number' ? (
        <input
          type="number"
          className="agent-flag__input"
          data-testid="agent-flag"
          data-key={field.key}
          min={field.min ?? undefined}
          max={field.max ?? undefined}
          step={field.step}
          value={String(value)}
          onChange={(event) => {
            onChange(event.target.value);
          }}
        />
      ) : (
        <input
          type="checkbox"
          data-testid="agent-flag"
          data-key={field.key}
          checked={value === true}
          onChange={(event) => {
            onChange(event.target.checked);
          }}
        />
      )}
      <span className="agent-flag__hint">{hint}</span>
    </label>
  );
}
