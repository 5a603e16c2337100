import type { ModelRef } from '../../../shared/protocol';
import { hashCanonical } from '../core/hash';

/**
 * What a commit records about how its text came to be. Hashed as canonical JSON; each record names
 * the previous record's hash, so the ledger is a hash chain.
 */
export interface ProvenanceRecord {
  readonly v: 1;
  readonly commit_seq: number;
  readonly prev_provenance_hash: string | null;
  readonly run_id: string;
  readonly session_id: string;
  readonly turn_id: string;
  readonly npc_id: string;
  readonly model: ModelRef;
  readonly model_content_hash: string;
  readonly sampling: { temperature: number; top_p: number; max_tokens: number; seed: number };
  readonly prompt_hash: string;
  readonly player_text_hash: string;
  readonly final_text_hash: string;
  readonly token_count: number;
  readonly committed_at: number;
}

export function provenanceHash(record: ProvenanceRecord): string {
  return hashCanonical(record);
}
