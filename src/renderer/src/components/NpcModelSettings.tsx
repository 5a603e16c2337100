import { FormActions } from './FormActions';
import { useDraft } from './use-draft';
import { useMemo } from 'react';
import type { NpcModelSetting } from '../../../shared/models';
import { useAppState, useInspector } from '../app/context';
import { modelChoices, modelKey, type ModelChoice } from '../store/models-reducer';
import { selectModels, selectNpcSettings, selectScenario } from '../store/selectors';
import { npcDraftChange, npcFieldValue, SAMPLING_FIELDS, type NpcDraft } from './models-draft';

const SOURCE_TEXT: Record<NpcModelSetting['source'], string> = {
  scenario: 'as the scenario says',
  default: "the host's default model",
  designer: 'chosen here',
};

/**
 * Which model and sampling each NPC of a scenario speaks with. A change applies from the NPC's next
 * turn, in every session; Reset returns the NPC to its default model and the scenario's sampling.
 */
export function NpcModelSettings({ scenarioId }: { scenarioId: string | null }) {
  const settings = useAppState(selectNpcSettings(scenarioId));
  const models = useAppState(selectModels);
  const scenario = useAppState(selectScenario(scenarioId));
  const choices = useMemo(() => modelChoices(models, scenarioId), [models, scenarioId]);
  if (scenarioId === null) return <p className="empty">No scenario: create or select a session.</p>;
  if (settings.length === 0)
    return (
      <p className="empty">
        {models.npcSettingsLoading ? 'Reading the NPC settings…' : 'No NPC settings read yet.'}
      </p>
    );
  return (
    <ul className="npc-settings">
      {settings.map((setting) => (
        <NpcSettingForm
          // A new answer for the NPC starts its form afresh.
          key={`${setting.npc_id}\u0000${modelKey(setting.model)}\u0000${JSON.stringify(setting.sampling)}`}
          setting={setting}
          name={scenario?.npcs.find((n) => n.npc_id === setting.npc_id)?.name ?? setting.npc_id}
          choices={choices}
        />
      ))}
    </ul>
  );
}

function NpcSettingForm({
  setting,
  name,
  choices,
}: {
  setting: NpcModelSetting;
  name: string;
  choices: readonly ModelChoice[];
}) {
  const inspector = useInspector();
  const { draft, setDraft, sending, send } = useDraft<NpcDraft>();
  const { change, count, errors } = npcDraftChange(setting, draft);
  const { scenario_id: scenarioId, npc_id: npcId } = setting;

  return (
    <li
      className="npc-setting"
      data-testid="npc-setting"
      data-npc={npcId}
      data-model={modelKey(setting.model)}
      data-source={setting.source}
    >
      <form
        aria-label={`Model and sampling of ${name}`}
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          if (count > 0 && errors.length === 0)
            void send(() => inspector.setNpcSettings(scenarioId, npcId, change));
        }}
      >
        <div className="npc-setting__head">
          <span className="npc-setting__name">{name}</span>
          <span
            className={`tag npc-source npc-source--${setting.source}`}
            title={SOURCE_TEXT[setting.source]}
          >
            {setting.source}
          </span>
          <button
            type="button"
            className="button button--small"
            data-testid="npc-prewarm"
            title={`Load ${modelKey(setting.model)} now`}
            onClick={() => void inspector.loadModel(setting.model)}
          >
            Prewarm
          </button>
        </div>
        <label className="model-field model-field--wide">
          <span className="model-field__label">model</span>
          <select
            className="npc-setting__model"
            data-testid="npc-model-select"
            value={npcFieldValue(setting, draft, 'model')}
            onChange={(event) => {
              setDraft((d) => ({ ...d, model: event.target.value }));
            }}
          >
            {choices.map((c) => (
              <option key={c.key} value={c.key}>
                {c.key}
              </option>
            ))}
          </select>
        </label>
        <div className="npc-setting__sampling">
          {SAMPLING_FIELDS.map((field) => (
            <label key={field.key} className="npc-sampling">
              <span className="model-field__label">{field.label}</span>
              <input
                type="number"
                className="model-field__input"
                data-testid="npc-sampling"
                data-key={field.key}
                step={field.step}
                min={0}
                value={npcFieldValue(setting, draft, field.key)}
                onChange={(event) => {
                  setDraft((d) => ({ ...d, [field.key]: event.target.value }));
                }}
              />
            </label>
          ))}
        </div>
        <FormActions
          errors={errors}
          errorTestId="npc-settings-error"
          applyTestId="npc-settings-apply"
          resetTestId="npc-settings-reset"
          changed={count}
          sending={sending}
          resetDisabled={sending}
          resetTitle="Back to the default model and the scenario's sampling (drops unsent edits too)"
          onReset={() =>
            void send(() => inspector.setNpcSettings(scenarioId, npcId, { model: null, sampling: null }))
          }
        />
      </form>
    </li>
  );
}
