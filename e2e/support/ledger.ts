import { Ledger, type CommitRow } from '../../src/main/runtime/authority/ledger';

/** Every record of the server's ledger in commit order, read with the runtime's own read-only reader. */
export function ledgerRows(file: string): CommitRow[] {
  const ledger = Ledger.open(file, { readonly: true });
  try {
    return [...ledger.commits()];
  } finally {
    ledger.close();
  }
}
