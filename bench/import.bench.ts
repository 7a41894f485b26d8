import type { EngineKind } from '../src/internal/db/engine.js';
import { systemContext } from '../src/internal/context.js';
import { hashPassword } from '../src/modules/accounts/password.js';
import { report } from './report.js';
import { withBenchServices } from './bench-stack.js';

const LINES = 5000;

/** 5,000 NDJSON lines with an argon2id `passwordHash` (the fast path: no hashing during the import). */
function ndjson(passwordHash: string): string[] {
  return Array.from({ length: LINES }, (_, i) => JSON.stringify({
    name: `Import Person ${i}`, email: `import.${i}@example.org`, phone: `+4930${String(1_000_000 + i)}`,
    postalAddress: { line1: `Importweg ${i}`, city: 'Berlin', postalCode: '10115', country: 'DE' },
    birthDate: '1990-04-01', region: 'DE', language: 'de-DE', timeZone: 'Europe/Berlin', passwordHash,
  }));
}

async function benchEngine(kind: EngineKind, lines: readonly string[]): Promise<void> {
  const ran = await withBenchServices(kind, async (s) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await s.accounts.importer.importLines(systemContext('bench:import'), lines, { batchSize: 500 });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (r.imported !== LINES) throw new Error(`imported ${r.imported} of ${LINES}`);
    // Node's own CPU per subject (validation, sealing, audit hashing, driver work): with the store's work on the
    // same two cores, the ceiling the goal runs into.
    const cpuPerSubject = (cpu.user + cpu.system) / LINES;
    report(`import ${kind}: ${LINES} lines with passwordHash, batches of 500`, `${Math.round(LINES / seconds)} subjects/s (${seconds.toFixed(2)} s; Node CPU ${Math.round(cpuPerSubject)} µs/subject; goal ≥ 20000/s on PostgreSQL)`);
  });
  if (!ran) report('import postgres', 'skipped: PostgreSQL does not answer');
}

/** `pledge import` throughput (R-ACC-1 bench of issue 3): subjects/s on both engines. */
export async function importBench(): Promise<void> {
  const lines = ndjson(await hashPassword('imported passphrase 2026'));
  for (const kind of ['sqlite', 'postgres'] as const) await benchEngine(kind, lines);
}
