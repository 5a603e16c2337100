import { definedEntries } from '../core/patch';
import { AGENT_CONFIG_KEYS, AgentStreamConfig, type AgentStreamConfigPatch } from '../../../shared/agents';
import { canonicalJson } from '../core/hash';

export interface ConfigChange {
  readonly changed_by: string;
  readonly changes: { key: string; from: unknown; to: unknown }[];
  readonly config: AgentStreamConfig;
  readonly version: number;
  readonly at: number;
}

/**
 * The control plane's flags, runtime-wide. Every effective change bumps the version and is reported
 * to listeners (the runtime publishes `config_changed` into every live session). Turns read the
 * config once, when they start, so a change applies from the next turn.
 */
export class AgentConfigStore {
  private current: AgentStreamConfig;
  private ver = 0;
  private readonly listeners = new Set<(change: ConfigChange) => void>();
  private readonly history: ConfigChange[] = [];

  constructor(
    initial: Partial<AgentStreamConfig> = {},
    private readonly now: () => number,
  ) {
    this.current = AgentStreamConfig.parse(initial);
  }

  get config(): AgentStreamConfig {
    return this.current;
  }

  get version(): number {
    return this.ver;
  }

  /** The most recent changes, oldest first (at most 100). */
  get changes(): readonly ConfigChange[] {
    return this.history;
  }

  onChange(listener: (change: ConfigChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Applies a validated patch. Keys whose value does not change are left out; when nothing changes,
   * nothing is reported and null is returned.
   */
  set(patch: AgentStreamConfigPatch, changedBy: string): ConfigChange | null {
    // A key present but undefined changes nothing (rather than resetting the flag to its default).
    const given = definedEntries(patch);
    const next = AgentStreamConfig.parse({ ...this.current, ...given });
    const changes = AGENT_CONFIG_KEYS.filter(
      (k) => canonicalJson(next[k]) !== canonicalJson(this.current[k]),
    ).map((key) => ({ key, from: this.current[key], to: next[key] }));
    if (changes.length === 0) return null;
    this.current = next;
    const change: ConfigChange = {
      changed_by: changedBy,
      changes,
      config: next,
      version: ++this.ver,
      at: this.now(),
    };
    this.history.push(change);
    if (this.history.length > 100) this.history.shift();
    for (const l of this.listeners) l(change);
    return change;
  }
}
