import { randomBytes } from 'node:crypto';
import { sealField } from '../src/modules/vault/field-cipher.js';
import { median, report } from './report.js';

const SEALS = 200_000;
/** Sealed values per imported account: 11 profile fields and the password hash (the wrapped DEK is one more). */
const VALUES_PER_ACCOUNT = 12;

/**
 * The floor under the import and vault goals (issue 3): what one AES-256-GCM seal of a short field costs through
 * node:crypto here — the vault's own `sealField` (fresh nonce, AAD of table/field/subject/key version).
 */
export async function cipherBench(): Promise<void> {
  const dek = randomBytes(32);
  const binding = { table: 'accounts', field: 'name', subjectId: '0f8fad5b-d9cb-469f-a165-70867728950e', dekVersion: 1 };
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < SEALS; i++) sealField(dek, binding, 'Import Person 12345');
    runs.push(((performance.now() - t0) * 1000) / SEALS);
  }
  const perSeal = median(runs);
  const perAccount = perSeal * (VALUES_PER_ACCOUNT + 1);
  report('vault: one AES-256-GCM field seal (sealField, 19 bytes)', `${perSeal.toFixed(2)} µs (median of 5 × ${SEALS.toLocaleString('en')})`);
  report('vault: seals per imported account (12 values + DEK wrap)', `${perAccount.toFixed(0)} µs = at most ${Math.round(1e6 / perAccount).toLocaleString('en')} accounts/s per core for the cipher calls alone`);
}
