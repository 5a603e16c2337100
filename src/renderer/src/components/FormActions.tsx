/**
 * The foot of an edit form (agent flags, pool limits, NPC settings): the draft's problems, then
 * Apply (counting the changes) and Reset.
 */
export interface FormActionsProps {
  readonly errors: readonly string[];
  /** Test id of the problems box. */
  readonly errorTestId: string;
  readonly applyTestId: string;
  readonly resetTestId?: string;
  /** Changes the draft holds. */
  readonly changed: number;
  readonly sending: boolean;
  readonly resetDisabled: boolean;
  readonly resetTitle?: string;
  readonly onReset: () => void;
}

export function FormActions(props: FormActionsProps) {
  const { errors, changed, sending } = props;
  return (
    <>
      {errors.length === 0 ? null : (
        <div className="inline-error form-actions__error" role="alert" data-testid={props.errorTestId}>
          {errors.map((e) => (
            <p key={e}>{e}</p>
          ))}
        </div>
      )}
      <div className="form-actions">
        <button
          type="submit"
          className="button button--primary button--small"
          data-testid={props.applyTestId}
          disabled={sending || changed === 0 || errors.length > 0}
        >
          {changed === 0 ? 'Apply' : `Apply ${changed} ${changed === 1 ? 'change' : 'changes'}`}
        </button>
        <button
          type="button"
          className="button button--small"
          data-testid={props.resetTestId}
          disabled={props.resetDisabled}
          title={props.resetTitle}
          onClick={props.onReset}
        >
          Reset
        </button>
      </div>
    </>
  );
}
