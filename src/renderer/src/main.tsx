import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { AppProvider } from './app/context';
import { createInspector } from './app/inspector';
import { createBridge } from './bridge';
import { createAppStore } from './store/app-store';
import './styles.css';

const bridge = createBridge();
const store = createAppStore();
const inspector = createInspector({ bridge, store });

// Close the socket cleanly when the page goes away for good (a page kept in the back/forward cache
// may come back and still needs it).
window.addEventListener('pagehide', (event) => {
  if (event.persisted) return;
  inspector.dispose();
  bridge.dispose();
});

const container = document.getElementById('root');
if (container === null) throw new Error('index.html has no #root');
createRoot(container).render(
  <StrictMode>
    <AppProvider store={store} inspector={inspector}>
      <App />
    </AppProvider>
  </StrictMode>,
);
