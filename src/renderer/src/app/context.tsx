import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { AppState, AppStore } from '../store/app-store';
import type { Inspector } from './inspector';

interface AppServices {
  store: AppStore;
  inspector: Inspector;
}

const ServicesContext = createContext<AppServices | null>(null);

export function AppProvider({ store, inspector, children }: AppServices & { children: ReactNode }) {
  return <ServicesContext value={{ store, inspector }}>{children}</ServicesContext>;
}

function useServices(): AppServices {
  const services = useContext(ServicesContext);
  if (services === null) throw new Error('AppProvider is missing above this component');
  return services;
}

/** Reads the store through a selector; the component re-renders only when the selected value changes. */
export function useAppState<T>(selector: (state: AppState) => T): T {
  return useStore(useServices().store, selector);
}

export function useInspector(): Inspector {
  return useServices().inspector;
}
