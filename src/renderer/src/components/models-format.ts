/**
 * How the local-models plane reads in the inspector: sizes, parameter counts, durations, and how a
 * model's pool state and its latency phases are labelled. Pure functions, tested without React.
 */
import type { LoadTrigger, PooledModelStatus } from '../../../shared/models';
import type { WaterfallEnd, WaterfallPhase } from '../store/turn-waterfall';

const KIB = 1024;
const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

/** `512 KiB`, `668 MiB`, `4.00 GiB`; `—` when unknown. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '—';
  if (bytes < MIB) return `${Math.round(bytes / KIB)} KiB`;
  if (bytes < GIB) return `${Math.round(bytes / MIB)} MiB`;
  return `${(bytes / GIB).toFixed(2)} GiB`;
}

/** A parameter count as model cards write it: `1.1B`, `124M`; `—` when unknown. */
export function formatParams(count: number | null): string {
  if (count === null) return '—';
  if (count >= 1e9) return `${trim(count / 1e9)}B`;
  if (count >= 1e6) return `${trim(count / 1e6)}M`;
  if (count >= 1e3) return `${trim(count / 1e3)}K`;
  return String(count);
}

function trim(value: number): string {
  return value >= 100 ? value.toFixed(0) : String(Number(value.toFixed(1)));
}

/** `850 ms`, `12.4 s`, `3 min 05 s`, `2 h 10 min`; `—` when unknown. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1_000);
  if (seconds < 3_600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(seconds / 3_600)} h ${String(Math.floor((seconds % 3_600) / 60)).padStart(2, '0')} min`;
}

/** What prompted a load, in words. */
export const TRIGGER_TEXT: Readonly<Record<LoadTrigger, string>> = {
  turn: 'a turn',
  session_open: 'session open',
  npc_selected: 'NPC selected',
  typing: 'player typing',
  agent_prediction: 'agent prediction',
  manual: 'manual',
  restart: 'crash restart',
};

/** What a pool row's state says, with load progress while loading. */
export function describeModelState(row: Pick<PooledModelStatus, 'state' | 'progress' | 'busy'>): string {
  switch (row.state) {
    case 'loading':
      return `loading ${Math.round(row.progress * 100)}%`;
    case 'ready':
      return row.busy > 0 ? `ready · ${row.busy} ${row.busy === 1 ? 'turn' : 'turns'}` : 'ready';
    default:
      return row.state;
  }
}

export const PHASE_LABEL: Readonly<Record<WaterfallPhase, string>> = {
  ack: 'ACK',
  queue: 'queue',
  select: 'model select',
  load: 'load',
  'first-token': 'first token',
  tokens: 'tokens',
  commit: 'commit',
};

export const END_LABEL: Readonly<Record<WaterfallEnd, string>> = {
  committed: 'committed',
  commit_failed: 'commit refused',
  cancelled: 'cancelled',
  failed: 'failed',
  rejected: 'rejected',
};

/** `42.5 tok/s`. */
export function formatRate(perSecond: number): string {
  return `${perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toFixed(1)} tok/s`;
}
