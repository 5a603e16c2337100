import { expect, type Locator, type Page } from '@playwright/test';
import { AdmissionsPanel } from './admissions';
import { AgentsPanel } from './agents';
import { ModelsPanel } from './models';
import { ProvenancePanel } from './provenance';
import { SettingsPanel } from './settings';
import { WorldPanel } from './world';
import { SIDE_PANEL_LABELS, SIDE_PANELS } from '../../src/renderer/src/store/view-slice';

/** The side tabs, in the tab row's order (the n-th is Alt+Shift+n): the renderer's own list. */
export const SIDE_TABS = SIDE_PANELS;

export type SideTab = (typeof SIDE_TABS)[number];

export interface DialogueRecord {
  /** Each distinct text an NPC reply showed, in order. */
  replies: string[];
  /** Each distinct state an action chip showed, in order. */
  chipStates: string[];
  /** Whether "proposing actions…" ever showed. */
  proposing: boolean;
}

/** Runs in the page (a string: the e2e project has no DOM types). Fills `window.__parleySeen`. */
const RECORDER = `(() => {
  const seen = { replies: [], chipStates: [], proposing: false };
  window.__parleySeen = seen;
  const record = () => {
    for (const el of document.querySelectorAll('[data-testid="npc-reply"]')) {
      if (seen.replies.at(-1) !== el.textContent) seen.replies.push(el.textContent);
    }
    for (const el of document.querySelectorAll('[data-testid="action-chip"]')) {
      const state = el.getAttribute('data-state');
      if (seen.chipStates.at(-1) !== state) seen.chipStates.push(state);
    }
    if (document.querySelector('[data-testid="proposing-actions"]') !== null) seen.proposing = true;
  };
  new MutationObserver(record).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
})()`;

/** Page object for the inspector: tests speak in designer actions, not selectors. */
export class InspectorPage {
  readonly connection: Locator;
  readonly input: Locator;
  readonly sendButton: Locator;
  readonly cancelButton: Locator;
  readonly turns: Locator;
  readonly eventLog: Locator;
  readonly scenarioSelect: Locator;
  readonly npcSelect: Locator;
  readonly world: WorldPanel;
  readonly provenance: ProvenancePanel;
  readonly agents: AgentsPanel;
  readonly models: ModelsPanel;
  readonly admissions: AdmissionsPanel;
  readonly settings: SettingsPanel;

  constructor(readonly page: Page) {
    this.connection = page.getByTestId('connection-status');
    this.input = page.getByTestId('player-input');
    this.sendButton = page.getByTestId('send');
    this.cancelButton = page.getByTestId('cancel');
    this.turns = page.getByTestId('turn');
    this.eventLog = page.getByTestId('event-log');
    this.scenarioSelect = page.getByTestId('scenario-select');
    this.npcSelect = page.getByTestId('npc-select');
    this.world = new WorldPanel(page);
    this.provenance = new ProvenancePanel(page);
    this.agents = new AgentsPanel(page);
    this.models = new ModelsPanel(page);
    this.admissions = new AdmissionsPanel(page);
    this.settings = new SettingsPanel(page);
  }

  async open(url: string): Promise<void> {
    await this.page.goto(url);
    await expect(this.connection).toHaveAttribute('data-state', 'connected');
  }

  /** Creates a session with whatever scenario and NPC are chosen (the defaults unless `choose` changed them). */
  async newSession(): Promise<Locator> {
    const before = await this.page.getByTestId('session-item').count();
    await this.page.getByTestId('new-session').click();
    await expect(this.page.getByTestId('session-item')).toHaveCount(before + 1);
    return this.page.getByTestId('session-item').nth(before);
  }

  /** Picks the scenario and NPC of the next new session, by id. */
  async choose(scenarioId: string, npcId?: string): Promise<void> {
    await this.scenarioSelect.selectOption(scenarioId);
    if (npcId !== undefined) await this.npcSelect.selectOption(npcId);
  }

  async say(line: string): Promise<Locator> {
    const before = await this.turns.count();
    await this.input.fill(line);
    await this.input.press('Enter');
    await expect(this.turns).toHaveCount(before + 1);
    return this.turns.nth(before);
  }

  reply(turn: Locator): Locator {
    return turn.getByTestId('npc-reply');
  }

  actionChips(turn: Locator): Locator {
    return turn.getByTestId('action-chip');
  }

  verdicts(turn: Locator): Locator {
    return turn.getByTestId('verdict');
  }

  verdict(turn: Locator, rule: string): Locator {
    return turn.locator(`[data-testid="verdict"][data-rule="${rule}"]`);
  }

  /** A turn's Retry (a turn that ended without committing). */
  retryButton(turn: Locator): Locator {
    return turn.getByRole('button', { name: 'Retry' });
  }

  sessionItem(index: number): Locator {
    return this.page.getByTestId('session-item').nth(index);
  }

  /** The unread badge of a session in the sidebar. */
  unreadBadge(session: Locator): Locator {
    return session.getByTestId('unread-badge');
  }

  commitFailure(turn: Locator): Locator {
    return turn.getByTestId('commit-failed');
  }

  async showTab(tab: SideTab): Promise<void> {
    const button = this.page.getByRole('tab', { name: SIDE_PANEL_LABELS[tab], exact: true });
    await button.click();
    await expect(button).toHaveAttribute('aria-selected', 'true');
  }

  /** The tab button (its accessible name includes nothing but the label). */
  tab(tab: SideTab): Locator {
    return this.page.getByTestId(`tab-${tab}`);
  }

  /** Shows a tab with its keyboard shortcut (Alt+Shift+n), from wherever the focus is. */
  async showTabByKey(tab: SideTab): Promise<void> {
    await this.page.keyboard.press(`Alt+Shift+Digit${SIDE_TABS.indexOf(tab) + 1}`);
    await expect(this.tab(tab)).toHaveAttribute('aria-selected', 'true');
  }

  /**
   * Records, in the page, every text any NPC reply shows and every state any action chip takes, from
   * now on: what a test cannot catch by polling (a frame that shows an action line as speech).
   */
  async recordDialogue(): Promise<void> {
    await this.page.evaluate(RECORDER);
  }

  async recorded(): Promise<DialogueRecord> {
    return this.page.evaluate<DialogueRecord>('window.__parleySeen');
  }
}
