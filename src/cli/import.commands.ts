import fs from 'node:fs';
import readline from 'node:readline';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { boot } from '../start/boot.js';
import { systemContext } from '../internal/context.js';
import { failAndExit } from './fail.js';

/**
 * `pledge import <file.ndjson>` (R-ACC-1): one sign-up body per line, with `password` or an argon2id `passwordHash`.
 * Resumable: re-running a file counts already-imported e-mails as duplicates. Exit 0 once every line is handled
 * (refusals are reported by line number and code, never by value), 1 when the file cannot be read.
 */
export function registerImportCommands(program: Command): void {
  program
    .command('import <file>')
    .description('bulk import accounts from NDJSON (password hashing is slow by design: passwordHash is the fast path)')
    .option('--batch-size <n>', 'lines written per transaction (at most 5000)', (raw) => Math.max(1, Number.parseInt(raw, 10) || 500), 500)
    .action(async (file: string, opts: { batchSize: number }) => {
      let total: number;
      try {
        total = await countLines(file);
      } catch {
        failAndExit(new Error(`${file}: cannot read the file`));
      }
      const services = await boot().catch(failAndExit);
      const bar = new cliProgress.SingleBar({ format: 'importing accounts [{bar}] {value}/{total} lines ({percentage}%) eta {eta}s', stream: process.stdout }, cliProgress.Presets.shades_classic);
      const input = fs.createReadStream(file, { encoding: 'utf8' });
      try {
        const started = performance.now();
        bar.start(total, 0);
        // Line by line: a file of millions of accounts is never held in memory whole.
        const lines = readline.createInterface({ input, crlfDelay: Infinity });
        const report = await services.accounts.importer.importLines(systemContext('cli:import'), lines, { batchSize: opts.batchSize, onProgress: (n) => bar.update(n) });
        bar.stop();
        const seconds = (performance.now() - started) / 1000;
        console.log(`imported ${report.imported}, skipped ${report.duplicates} duplicate(s), refused ${report.refused.length} in ${seconds.toFixed(2)} s`);
        for (const r of report.refused) console.log(`  line ${r.line}: ${r.code}`);
      } catch (e) {
        bar.stop();
        failAndExit(e);
      } finally {
        input.destroy();
        await services.engine.close();
      }
    });
}

/** Lines in the file (for the progress bar's total), counted in chunks without keeping them. */
async function countLines(file: string): Promise<number> {
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of fs.createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines += 1;
    if (chunk.length > 0) last = chunk[chunk.length - 1]!;
  }
  return last === 0x0a ? lines : lines + 1;
}
