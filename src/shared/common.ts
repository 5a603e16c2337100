/** Small schemas every part of the protocol uses. */
import { z } from 'zod';

export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 digest');

export const ModelRef = z.object({
  /** Backend kind, e.g. `scripted`. */
  backend: z.string().min(1),
  /** Model id within the backend. */
  model_id: z.string().min(1),
});
export type ModelRef = z.infer<typeof ModelRef>;
