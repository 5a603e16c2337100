import type { ModelRef } from '../../../shared/common';
import type { ProvenanceRecordV2 } from '../../../shared/world';
import { hashCanonical } from '../core/hash';

/** Records written by the walking skeleton (schema 1): no world state. Still verified by hash and chain. */
export interface ProvenanceRecordV1 {
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

export type ProvenanceRecord = ProvenanceRecordV2;
export type AnyProvenanceRecord = ProvenanceRecordV1 | ProvenanceRecordV2;

/** The record's id: SHA-256 over its canonical JSON. */
export function provenanceHash(record: AnyProvenanceRecord): string {
  return hashCanonical(record);
}
