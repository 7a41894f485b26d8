import { auditVerifyBench } from './audit-verify.bench.js';
import { decisionsBench } from './decisions.bench.js';
import { vaultBench } from './vault.bench.js';
import { rightsBench } from './rights.bench.js';
import { collectionBench } from './collection.bench.js';
import { accountsBench } from './accounts.bench.js';
import { telemetryBench } from './telemetry.bench.js';
import { importBench } from './import.bench.js';
import { cipherBench } from './cipher.bench.js';

/** `npm run bench`: every benchmark, in one run, so ratios compare like with like. Never run by `npm test`. */
const only = process.argv[2];
const benches: Record<string, () => Promise<void>> = {
  'audit-verify': auditVerifyBench,
  decisions: decisionsBench,
  cipher: cipherBench,
  vault: vaultBench,
  rights: rightsBench,
  collection: collectionBench,
  accounts: accountsBench,
  telemetry: telemetryBench,
  import: importBench,
};
console.log(`Pledge benchmarks — ${new Date().toISOString()} — node ${process.version}`);
for (const [name, run] of Object.entries(benches)) {
  if (only && only !== name) continue;
  await run();
}
