import { ConnectionStatus } from './components/ConnectionStatus';
import { DialoguePane } from './components/DialoguePane';
import { ErrorBanner } from './components/ErrorBanner';
import { SessionList } from './components/SessionList';
import { SidePanel } from './components/SidePanel';

export function App() {
  return (
    <div className="app">
      <header className="topbar">
        <h1 className="topbar__title">Parley</h1>
        <span className="topbar__subtitle">dialogue inspector</span>
        <ConnectionStatus />
      </header>
      <ErrorBanner />
      <main className="layout">
        <SessionList />
        <DialoguePane />
        <SidePanel />
      </main>
    </div>
  );
}
