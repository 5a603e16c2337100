import type { StateCreator } from 'zustand';
import type { ModelRef } from '../../../shared/common';
import type { ModelsListResult } from '../../../shared/commands';
import type {
  ModelPoolConfig,
  ModelPoolStatus,
  NpcModelSetting,
  PooledModelState,
} from '../../../shared/models';
import type { AppState } from './app-store';
import {
  discoveryFailed,
  discoveryLoaded,
  discoveryRequested,
  EMPTY_MODELS,
  modelActionEnded,
  modelActionStarted,
  modelStateLoaded,
  npcSettingLoaded,
  npcSettingsFailed,
  npcSettingsLoaded,
  npcSettingsRequested,
  poolConfigLoaded,
  statusFailed,
  statusLoaded,
  statusRequested,
  type ModelAction,
  type ModelsState,
} from './models-reducer';

/** What the runtime's local-models plane answers on request: the pool, discovery, NPC model settings. */
export interface ModelsSlice {
  models: ModelsState;
  modelStatusRequested: () => void;
  modelStatusLoaded: (status: ModelPoolStatus) => void;
  modelStatusFailed: (error: string) => void;
  modelDiscoveryRequested: () => void;
  modelDiscoveryLoaded: (discovery: ModelsListResult) => void;
  modelDiscoveryFailed: (error: string) => void;
  npcSettingsRequested: () => void;
  npcSettingsLoaded: (settings: readonly NpcModelSetting[]) => void;
  npcSettingsFailed: (error: string) => void;
  npcSettingLoaded: (setting: NpcModelSetting) => void;
  poolConfigLoaded: (config: ModelPoolConfig) => void;
  modelActionStarted: (model: ModelRef, action: ModelAction) => void;
  modelActionEnded: (model: ModelRef) => void;
  modelStateLoaded: (model: ModelRef, state: PooledModelState) => void;
}

export const createModelsSlice: StateCreator<AppState, [], [], ModelsSlice> = (set) => {
  const update = (change: (state: ModelsState) => ModelsState) => {
    set((s) => {
      const models = change(s.models);
      return models === s.models ? s : { models };
    });
  };
  return {
    models: EMPTY_MODELS,
    modelStatusRequested: () => {
      update(statusRequested);
    },
    modelStatusLoaded: (status) => {
      update((s) => statusLoaded(s, status));
    },
    modelStatusFailed: (error) => {
      update((s) => statusFailed(s, error));
    },
    modelDiscoveryRequested: () => {
      update(discoveryRequested);
    },
    modelDiscoveryLoaded: (discovery) => {
      update((s) => discoveryLoaded(s, discovery));
    },
    modelDiscoveryFailed: (error) => {
      update((s) => discoveryFailed(s, error));
    },
    npcSettingsRequested: () => {
      update(npcSettingsRequested);
    },
    npcSettingsLoaded: (settings) => {
      update((s) => npcSettingsLoaded(s, settings));
    },
    npcSettingsFailed: (error) => {
      update((s) => npcSettingsFailed(s, error));
    },
    npcSettingLoaded: (setting) => {
      update((s) => npcSettingLoaded(s, setting));
    },
    poolConfigLoaded: (config) => {
      update((s) => poolConfigLoaded(s, config));
    },
    modelActionStarted: (model, action) => {
      update((s) => modelActionStarted(s, model, action));
    },
    modelActionEnded: (model) => {
      update((s) => modelActionEnded(s, model));
    },
    modelStateLoaded: (model, state) => {
      update((s) => modelStateLoaded(s, model, state));
    },
  };
};
