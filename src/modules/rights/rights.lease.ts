import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import { AppError } from '../../internal/errors/app-error.js';
import * as repo from './rights.repository.js';

/** How long a claim on a request's work lasts without renewal; renewed every third of it while the work runs. */
export const WORK_LEASE_MS = 60_000;

/**
 * Makes sure one request's work (an export, an erasure) is done by one runner at a time: the server that took the
 * request, or `pledge rights run` resuming it, never both — two runs would write two export files, or erase in
 * parallel. A runner claims the request in the store for a minute and renews the claim while it works. A claim
 * whose process is gone is taken over at once when that process ran on this machine (its pid is no longer alive:
 * a crash, a kill -9), else when the claim runs out.
 */
export class WorkLeases {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Runs `work` under a claim on the request, or throws REQUEST_BUSY when a live runner holds it — another process,
   * or another call in this one (each run is a holder of its own). `work` gets the holder, to finish the request
   * only while the claim is still its own.
   */
  async run<T>(requestId: string, work: (holder: string) => Promise<T>): Promise<T> {
    const holder = `${os.hostname()}:${process.pid}:${randomUUID()}`;
    await this.claim(requestId, holder);
    const renew = setInterval(() => {
      repo.renewWork(this.db, requestId, holder, until()).catch(() => undefined);
    }, WORK_LEASE_MS / 3);
    renew.unref();
    try {
      return await work(holder);
    } catch (e) {
      await repo.releaseWork(this.db, requestId, holder).catch(() => undefined);
      throw e;
    } finally {
      clearInterval(renew);
    }
  }

  private async claim(requestId: string, holder: string): Promise<void> {
    const now = new Date().toISOString();
    if (await repo.claimWork(this.db, requestId, holder, now, until())) return;
    const current = (await repo.requestById(this.db, requestId))?.work_lease ?? null;
    if (current !== null && holderIsGone(current) && (await repo.claimWork(this.db, requestId, holder, now, until(), current))) return;
    throw new AppError('REQUEST_BUSY', 'Another process is working on this request');
  }
}

const until = (): string => new Date(Date.now() + WORK_LEASE_MS).toISOString();

/** True when the holder ran on this machine and its process no longer exists. */
function holderIsGone(holder: string): boolean {
  const [host, pid] = holder.split(':');
  if (host !== os.hostname() || !pid || !/^\d+$/.test(pid)) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
