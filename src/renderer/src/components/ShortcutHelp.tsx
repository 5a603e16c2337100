import { SIDE_PANEL_LABELS, SIDE_PANELS, tabShortcut } from '../store/view-slice';

const SHORTCUTS: readonly (readonly [keys: string, what: string])[] = [
  ['Enter', 'send the line'],
  ['Shift+Enter', 'new line in the input'],
  ['Esc', 'cancel the running turn'],
  ...SIDE_PANELS.map((panel) => [tabShortcut(panel), `show ${SIDE_PANEL_LABELS[panel]}`] as const),
  ['← →', 'previous / next tab (tab focused)'],
  ['↑ ↓', 'previous / next event (event list focused)'],
];

/** The keyboard shortcuts, behind a small `?` disclosure at the end of the tab row. */
export function ShortcutHelp() {
  return (
    <details className="shortcut-help" data-testid="shortcut-help">
      <summary className="shortcut-help__toggle" aria-label="Keyboard shortcuts" title="Keyboard shortcuts">
        ?
      </summary>
      <div className="shortcut-help__popover" role="note" aria-label="Keyboard shortcuts">
        <dl>
          {SHORTCUTS.map(([keys, what]) => (
            <div key={keys} className="shortcut-help__row">
              <dt>
                <kbd>{keys}</kbd>
              </dt>
              <dd>{what}</dd>
            </div>
          ))}
        </dl>
      </div>
    </details>
  );
}
