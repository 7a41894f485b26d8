import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { boot } from '../start/boot.js';
import { systemContext } from '../internal/context.js';
import { failAndExit } from './fail.js';

const positive = (name: string) => (raw: string): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) failAndExit(new Error(`${name} must be a whole number, got "${raw}"`));
  return n;
};

/** `pledge keys …`: the KEK ring of the vault (R-SEC-4). */
export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('the vault key ring (KEK versions and rotation)');

  keys
    .command('status')
    .description('list KEK versions and how many data keys each wraps')
    .action(async () => {
      const services = await boot().catch(failAndExit);
      try {
        const status = await services.vault.keyStatus(services.engine.db);
        console.log(`key provider: ${status.provider}`);
        for (const v of status.versions) {
          const state = v.current ? 'current' : v.retiredAt ? `retired ${v.retiredAt}` : 'active';
          console.log(`  v${v.version}  created ${v.createdAt}  ${state}  ${v.keys} data key(s)`);
        }
      } finally {
        await services.engine.close();
      }
    });

  keys
    .command('rotate')
    .description('create a new KEK version, re-wrap every data key online, retire the old version (resumable)')
    .option('--batch-size <n>', 'data keys re-wrapped per transaction', positive('--batch-size'), 500)
    .addOption(new Option('--pause-ms <n>', 'sleep between batches (tests)').argParser(positive('--pause-ms')).default(0).hideHelp())
    .addOption(new Option('--grace-ms <n>', 'wait before the final sweep').argParser(positive('--grace-ms')).default(5000).hideHelp())
    .action(async (opts: { batchSize: number; pauseMs: number; graceMs: number }) => {
      const services = await boot().catch(failAndExit);
      const bar = new cliProgress.SingleBar({ format: 're-wrapping data keys [{bar}] {value}/{total} ({percentage}%) eta {eta}s' }, cliProgress.Presets.shades_classic);
      try {
        const result = await services.vault.rotateKeys(services.engine.db, systemContext('cli:keys-rotate'), {
          batchSize: Math.max(1, opts.batchSize),
          pauseMs: opts.pauseMs,
          graceMs: opts.graceMs,
          onStart: ({ toVersion, total, resumed }) => {
            console.log(resumed ? `resuming an interrupted rotation to KEK v${toVersion}: ${total} data key(s) left` : `new KEK v${toVersion}: ${total} data key(s) to re-wrap`);
            bar.start(total, 0);
          },
          onProgress: (done) => bar.update(done),
        });
        bar.stop();
        console.log(`re-wrapped ${result.rewrapped} data key(s) with KEK v${result.toVersion}; retired: ${result.retired.map((v) => `v${v}`).join(', ') || 'none'}`);
        if (result.failed > 0 || result.remaining.length > 0) {
          console.error(`${result.failed} data key(s) could not be re-wrapped; versions still in use: ${result.remaining.map((v) => `v${v}`).join(', ')}`);
          process.exitCode = 2;
        }
      } catch (e) {
        bar.stop();
        failAndExit(e);
      } finally {
        await services.engine.close();
      }
    });
}
