import { FormActions } from './FormActions';
import { useDraft } from './use-draft';
import type { ModelPoolConfig, ModelPoolStatus, PooledModelStatus } from '../../../shared/models';
import { useAppState, useInspector } from '../app/context';
import { canLoad, canUnload, modelKey, type ModelAction } from '../store/models-reducer';
import { selectModels, selectModelsScenarioId } from '../store/selectors';
import { clockTime } from './format';
import {
  poolDraftChanges,
  poolFieldValue,
  POOL_FIELDS,
  type PoolDraft,
  type PoolField,
} from './models-draft';
import { describeModelState, formatBytes, formatDuration, formatParams, TRIGGER_TEXT } from './models-format';
import { NpcModelSettings } from './NpcModelSettings';

/**
 * The local-models plane, runtime-wide: the warm pool's limits, the models it holds (load, prewarm,
 * unload), the models discovery found, and which model and sampling each NPC of the current scenario
 * speaks with. Read when the tab opens; the pool's status is read again about once a second while it is
 * shown (idle times move) and after model events.
 */
export function ModelsPanel() {
  const inspector = useInspector();
  const models = useAppState(selectModels);
  const scenarioId = useAppState(selectModelsScenarioId);
  const { status } = models;
  const loading = models.statusLoading || models.discoveryLoading || models.npcSettingsLoading;
  return (
    <div className="models-panel" data-testid="models-panel" data-loading={String(loading)}>
      <header className="side__header">
        <h2>Models</h2>
        <span className="panel__facts">
          {status === null ? null : (
            <span
              data-testid="pool-memory"
              data-used-bytes={status.used_bytes}
              data-budget-bytes={status.config.memory_budget_bytes}
              title="RAM of the loaded models (measured, else estimated) of the pool's budget"
            >
              {formatBytes(status.used_bytes)} of {formatBytes(status.config.memory_budget_bytes)}
            </span>
          )}
          <button
            type="button"
            className="button button--small"
            data-testid="models-refresh"
            onClick={() => void inspector.refreshModels()}
          >
            Refresh
          </button>
        </span>
      </header>
      {models.statusError === null ? null : (
        <p className="inline-error" role="alert" data-testid="model-status-error">
          Could not read the model pool: {models.statusError}
        </p>
      )}
      <div className="models-panel__body">
        {status === null ? (
          <p className="empty">
            {models.statusLoading ? 'Reading the model pool…' : 'No pool status read yet.'}
          </p>
        ) : (
          <>
            <section className="models-panel__section" aria-labelledby="models-pool-config-heading">
              <h3 id="models-pool-config-heading">Pool</h3>
              <PoolConfigForm config={status.config} />
            </section>
            <section className="models-panel__section" aria-labelledby="models-pool-heading">
              <h3 id="models-pool-heading">Pool models</h3>
              <PoolTable status={status} pending={models.pending} />
            </section>
          </>
        )}
        <DiscoveredModels />
        <section className="models-panel__section" aria-labelledby="models-npcs-heading">
          <h3 id="models-npcs-heading">
            NPC models {scenarioId === null ? null : <span className="muted">· {scenarioId}</span>}
          </h3>
          {models.npcSettingsError === null ? null : (
            <p className="inline-error" role="alert" data-testid="npc-settings-load-error">
              Could not read the NPC settings: {models.npcSettingsError}
            </p>
          )}
          <NpcModelSettings scenarioId={scenarioId} />
        </section>
      </div>
    </div>
  );
}

/** The pool's limits. Edits stay local until Apply, which sends only what changed. */
function PoolConfigForm({ config }: { config: ModelPoolConfig }) {
  const inspector = useInspector();
  const { draft, setDraft, sending, send } = useDraft<PoolDraft>();
  const { changes, errors } = poolDraftChanges(config, draft);
  const changed = Object.keys(changes).length;

  const apply = async () => {
    if (changed === 0 || errors.length > 0) return;
    await send(() => inspector.setPoolConfig(changes));
  };

  return (
    <form
      className="model-form"
      aria-label="Model pool limits"
      data-testid="pool-config"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void apply();
      }}
    >
      {POOL_FIELDS.map((field) => (
        <PoolInput
          key={field.key}
          field={field}
          value={poolFieldValue(config, draft, field.key)}
          edited={
            draft[field.key] !== undefined && draft[field.key] !== poolFieldValue(config, {}, field.key)
          }
          onChange={(value) => {
            setDraft((d) => ({ ...d, [field.key]: value }));
          }}
        />
      ))}
      <FormActions
        errors={errors}
        errorTestId="pool-config-error"
        applyTestId="pool-config-apply"
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

interface PoolInputProps {
  field: PoolField;
  value: string | boolean;
  edited: boolean;
  onChange: (value: string | boolean) => void;
}

function PoolInput({ field, value, edited, onChange }: PoolInputProps) {
  return (
    <label className={`model-field${edited ? ' model-field--edited' : ''}`}>
      <span className="model-field__label">{field.label}</span>
      {field.kind === 'number' ? (
        <input
          type="number"
          className="model-field__input"
          data-testid="pool-field"
          data-key={field.key}
          min={0}
          value={String(value)}
          onChange={(event) => {
            onChange(event.target.value);
          }}
        />
      ) : (
        <input
          type="checkbox"
          data-testid="pool-field"
          data-key={field.key}
          checked={value === true}
          onChange={(event) => {
            onChange(event.target.checked);
          }}
        />
      )}
      <span className="model-field__hint">{field.hint}</span>
    </label>
  );
}

function PoolTable({
  status,
  pending,
}: {
  status: ModelPoolStatus;
  pending: Readonly<Record<string, ModelAction>>;
}) {
  if (status.models.length === 0)
    return (
      <p className="empty" data-testid="pool-empty">
        The pool holds no model yet: a session, a turn or a prewarm loads one.
      </p>
    );
  return (
    <div className="pool">
      <table className="pool__table" aria-label="Pool models">
        <thead>
          <tr>
            <th scope="col">model</th>
            <th scope="col">state</th>
            <th scope="col">memory</th>
            <th scope="col">idle</th>
            <th scope="col">load</th>
            <th scope="col">pid</th>
            <th scope="col">crashes</th>
            <th scope="col">
              <span className="visually-hidden">actions</span>
            </th>
          </tr>
        </thead>
        {status.models.map((row) => (
          <PoolRow key={modelKey(row.model)} row={row} pending={pending[modelKey(row.model)] ?? null} />
        ))}
      </table>
    </div>
  );
}

function PoolRow({ row, pending }: { row: PooledModelStatus; pending: ModelAction | null }) {
  const inspector = useInspector();
  const key = modelKey(row.model);
  const breakerOpen = row.circuit_open_until !== null;
  const loadLabel = row.state === 'unloaded' ? 'Prewarm' : breakerOpen ? 'Load (reset breaker)' : 'Load';
  return (
    // One tbody per model: its row and, when there is one, its last error under it.
    <tbody
      className={`pool-model pool-model--${row.state}`}
      data-testid="pool-model"
      data-model={key}
      data-state={row.state}
      data-busy={row.busy}
      data-loaded-by={row.loaded_by ?? ''}
      data-crashes={row.crashes}
      data-circuit-open={String(breakerOpen)}
    >
      <tr>
        <th scope="row">
          <span className="pool-model__name" title={key}>
            {row.model.model_id}
          </span>
          <span className="pool-model__backend">{row.model.backend}</span>
          {row.loaded_by === null ? null : (
            <span className="pool-model__by" title={`${row.loads} ${row.loads === 1 ? 'load' : 'loads'}`}>
              by {TRIGGER_TEXT[row.loaded_by]}
            </span>
          )}
        </th>
        <td>
          <span className={`tag model-state model-state--${row.state}`}>{describeModelState(row)}</span>
          {row.state === 'loading' ? (
            <progress
              className="model-progress"
              data-testid="model-progress"
              max={1}
              value={row.progress}
              aria-label={`Loading ${key}`}
            />
          ) : null}
        </td>
        <td
          className="num"
          title={row.estimated_bytes === null ? undefined : `estimated ${formatBytes(row.estimated_bytes)}`}
        >
          {row.memory_bytes === null ? (
            row.estimated_bytes === null ? (
              '—'
            ) : (
              <span className="muted">~{formatBytes(row.estimated_bytes)}</span>
            )
          ) : (
            formatBytes(row.memory_bytes)
          )}
        </td>
        <td className="num" data-testid="model-idle">
          {formatDuration(row.idle_ms)}
        </td>
        <td className="num">{formatDuration(row.load_ms)}</td>
        <td className="num">{row.pid ?? '—'}</td>
        <td className="num">
          {row.crashes}
          {breakerOpen && row.circuit_open_until !== null ? (
            <span
              className="tag tag--danger"
              data-testid="model-circuit"
              title={`No restarts until ${clockTime(row.circuit_open_until)}; Load resets the breaker`}
            >
              breaker open
            </span>
          ) : null}
        </td>
        <td className="pool-model__actions">
          <button
            type="button"
            className="button button--small"
            data-testid="model-load"
            disabled={pending !== null || !canLoad(row)}
            title="Load it now, ahead of need"
            onClick={() => void inspector.loadModel(row.model)}
          >
            {pending === 'load' ? 'Loading…' : loadLabel}
          </button>
          <button
            type="button"
            className="button button--small button--danger"
            data-testid="model-unload"
            disabled={pending !== null || !canUnload(row)}
            title={row.busy > 0 ? 'In use by a turn' : 'Unload it now'}
            onClick={() => void inspector.unloadModel(row.model)}
          >
            {pending === 'unload' ? 'Unloading…' : 'Unload'}
          </button>
        </td>
      </tr>
      {row.last_error === null ? null : (
        <tr className="pool-model__error">
          <td colSpan={8} data-testid="model-last-error">
            {row.last_error}
          </td>
        </tr>
      )}
    </tbody>
  );
}

/** What `models.list` found: GGUF files in the models folder (usable or why not), the embedded model, a server's models. */
function DiscoveredModels() {
  const inspector = useInspector();
  const models = useAppState(selectModels);
  const { discovery } = models;
  const inPool = new Set((models.status?.models ?? []).map((m) => modelKey(m.model)));
  return (
    <section className="models-panel__section" aria-labelledby="models-discovered-heading">
      <h3 id="models-discovered-heading">
        Discovered{' '}
        {discovery?.models_dir == null ? null : (
          <code className="muted" data-testid="models-dir">
            {discovery.models_dir}
          </code>
        )}
      </h3>
      {models.discoveryError === null ? null : (
        <p className="inline-error" role="alert" data-testid="model-list-error">
          Could not list the models: {models.discoveryError}
        </p>
      )}
      {discovery === null ? null : discovery.models.length === 0 ? (
        <p className="empty" data-testid="discovered-empty">
          No model files found.
        </p>
      ) : (
        <div className="pool">
          <table className="pool__table" aria-label="Discovered models">
            <thead>
              <tr>
                <th scope="col">model</th>
                <th scope="col">arch</th>
                <th scope="col">params</th>
                <th scope="col">quant</th>
                <th scope="col">ctx</th>
                <th scope="col">size</th>
                <th scope="col">
                  <span className="visually-hidden">actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {discovery.models.map((m) => {
                const key = modelKey(m.model);
                return (
                  <tr
                    key={key}
                    className={m.error === null ? 'discovered' : 'discovered discovered--unusable'}
                    data-testid="discovered-model"
                    data-model={key}
                    data-usable={String(m.error === null)}
                  >
                    <th scope="row" title={m.path ?? key}>
                      <span className="pool-model__name">{m.name ?? m.model.model_id}</span>
                      <span className="pool-model__backend">{key}</span>
                      {m.error === null ? null : (
                        <span className="discovered__error" data-testid="discovered-error">
                          {m.error}
                        </span>
                      )}
                    </th>
                    <td>{m.architecture ?? '—'}</td>
                    <td className="num">{formatParams(m.parameters)}</td>
                    <td>{m.quantization ?? '—'}</td>
                    <td className="num">{m.context_length ?? '—'}</td>
                    <td
                      className="num"
                      title={
                        m.estimated_bytes === null
                          ? undefined
                          : `about ${formatBytes(m.estimated_bytes)} loaded`
                      }
                    >
                      {formatBytes(m.file_bytes)}
                    </td>
                    <td className="pool-model__actions">
                      {m.error !== null || inPool.has(key) ? null : (
                        <button
                          type="button"
                          className="button button--small"
                          data-testid="discovered-load"
                          disabled={models.pending[key] !== undefined}
                          onClick={() => void inspector.loadModel(m.model)}
                        >
                          Prewarm
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
