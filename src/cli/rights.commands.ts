import type { Command } from 'commander';
import { boot } from '../start/boot.js';
import { stopServices } from '../start/services.js';
import { systemContext } from '../internal/context.js';
import { failAndExit } from './fail.js';
import { isAppError } from '../internal/errors/app-error.js';

/**
 * Crash-test seam: `PLEDGE_TEST_KILL_AFTER_STEP=N` makes `rights run` SIGKILL itself right after erasure step N
 * is recorded, like a power cut. Read here, at the process entry, never inside a module.
 */
function killAfterStep(): number | undefined {
  const raw = process.env.PLEDGE_TEST_KILL_AFTER_STEP;
  return raw && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

export function registerRightsCommands(program: Command): void {
  const rights = program.command('rights').description('data subject requests');
  rights
    .command('run')
    .description('finish every request whose work was interrupted (e.g. an account erasure cut by a crash)')
    .option('--request <id>', 'only this request')
    .action(async (opts: { request?: string }) => {
      const services = await boot().catch(failAndExit);
      const kill = killAfterStep();
      if (kill !== undefined) {
        services.rights.doer.onErasureStep = (index) => {
          if (index === kill) process.kill(process.pid, 'SIGKILL');
        };
      }
      try {
        const ctx = systemContext('rights-run');
        const ids = opts.request ? [opts.request] : await services.rights.requests.unfinished();
        let finished = 0;
        for (const id of ids) {
          try {
            const r = await services.rights.requests.resume(ctx, id);
            console.log(`${r.id} ${r.type} ${r.status}`);
            finished++;
          } catch (e) {
            // The server (or another run) is doing it right now: not ours to repeat.
            if (!(isAppError(e) && e.code === 'REQUEST_BUSY')) throw e;
            console.log(`${id} skipped: another process is working on it`);
          }
        }
        console.log(`${finished} request(s) finished`);
      } catch (e) {
        failAndExit(e);
      } finally {
        await stopServices(services);
        await services.engine.close();
      }
    });
  rights
    .command('sweep-exports')
    .description('delete export files whose download link has expired')
    .action(async () => {
      const services = await boot().catch(failAndExit);
      const n = await services.rights.exports.sweep(systemContext('rights-export-sweep')).catch(failAndExit);
      console.log(`${n} expired export(s) deleted`);
      await stopServices(services);
      await services.engine.close();
    });
}
