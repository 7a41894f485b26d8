import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/** Runs the real `pledge` CLI in a child process with the given environment. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [path.join(ROOT, 'bin/pledge.js'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
}
