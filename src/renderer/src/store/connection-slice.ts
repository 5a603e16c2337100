import type { StateCreator } from 'zustand';
import type { BridgeStatus } from '../bridge/types';
import type { AppState } from './app-store';

export interface ConnectionSlice {
  connection: BridgeStatus;
  setConnection: (status: BridgeStatus) => void;
}

export const INITIAL_CONNECTION: BridgeStatus = { state: 'connecting', error: null };

export const createConnectionSlice: StateCreator<AppState, [], [], ConnectionSlice> = (set) => ({
  connection: INITIAL_CONNECTION,
  setConnection: (connection) => {
    set({ connection });
  },
});
