import { useState } from 'react';

/**
 * An edit form's draft and its sending state: `send` runs a command and clears the draft when the
 * runtime took the change (a refused change keeps the draft, so the designer can fix it).
 */
export function useDraft<D extends object>() {
  const [draft, setDraft] = useState<Partial<D>>({});
  const [sending, setSending] = useState(false);
  const send = async (run: () => Promise<boolean>): Promise<void> => {
    setSending(true);
    const taken = await run();
    setSending(false);
    if (taken) setDraft({});
  };
  return { draft, setDraft, sending, send };
}
