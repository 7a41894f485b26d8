import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import { systemContext, type ActorContext } from '../../internal/context.js';
import type { AuditLog } from '../audit/audit.service.js';

type Db = Kysely<Database> | Transaction<Database>;

/** One store's retention rule: removes (or truncates) what is past its time; idempotent. `db` is a transaction of its own. */
export type SweepFn = (db: Db, now: Date) => Promise<{ readonly removed: number }>;

export interface SweepOptions {
  /**
   * true: the runner opens the step's transaction, passes it as `db` and writes the audit entry in it; the sweep
   * must then use only that handle. Default false: the sweep gets the bare handle and its service opens its own
   * transactions (a sweep that calls a service using the store by itself would otherwise deadlock on SQLite's
   * single connection, waiting for the runner's open transaction).
   */
  readonly transaction?: boolean;
}

export interface SweepStepResult {
  readonly name: string;
  readonly ok: boolean;
  readonly removed: number;
  readonly ms: number;
  /** A code-like message when the step failed; never data. */
  readonly error?: string;
}

export interface RetentionReport {
  readonly at: string;
  readonly steps: readonly SweepStepResult[];
  readonly removed: number;
  readonly failed: number;
}

export interface RunOptions {
  readonly now?: Date;
  readonly ctx?: ActorContext;
  readonly onStep?: (name: string, done: number, total: number) => void;
}

// Engine messages can quote row values; the report keeps the code only.
const errorCode = (e: unknown): string => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.name : 'failed';
};

/**
 * The one retention sweeper: every store registers its sweep (`registerSweep`) and `run` applies them all.
 * Crash-safe: each step runs in its own transaction with its audit entry, so a crash leaves every step either
 * done or not started, and running again finishes the job. A failing step does not stop the others; the report
 * says what succeeded and what failed (STYLE: operations that can partly succeed return a result object).
 */
export class RetentionSweeper {
  private readonly sweeps = new Map<string, { fn: SweepFn; transaction: boolean }>();
  private running: Promise<RetentionReport> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditLog,
  ) {}

  /** @example sweeper.registerSweep('outbox.sent', (db, now) => outbox.purgeSentBefore(db, cutoff(now))) */
  registerSweep(name: string, fn: SweepFn, options: SweepOptions = {}): void {
    if (this.sweeps.has(name)) throw new Error(`retention sweep "${name}" is registered twice`);
    this.sweeps.set(name, { fn, transaction: options.transaction ?? false });
  }

  names(): string[] {
    return [...this.sweeps.keys()];
  }

  /** Runs every sweep once; concurrent calls share one run. */
  run(options: RunOptions = {}): Promise<RetentionReport> {
    this.running ??= this.runAll(options).finally(() => (this.running = undefined));
    return this.running;
  }

  private async runAll(options: RunOptions): Promise<RetentionReport> {
    const now = options.now ?? new Date();
    const ctx = options.ctx ?? systemContext('retention');
    const steps: SweepStepResult[] = [];
    const entries = [...this.sweeps.entries()];
    for (const [i, [name, { fn, transaction }]] of entries.entries()) {
      const t0 = performance.now();
      try {
        const step = async (db: Db): Promise<number> => {
          const r = await fn(db, now);
          if (r.removed > 0) await this.audit.append(db, ctx, { action: 'retention.swept', target: name, details: { removed: r.removed } });
          return r.removed;
        };
        const removed = transaction ? await this.db.transaction().execute(step) : await step(this.db);
        steps.push({ name, ok: true, removed, ms: performance.now() - t0 });
      } catch (e) {
        steps.push({ name, ok: false, removed: 0, ms: performance.now() - t0, error: errorCode(e) });
      }
      options.onStep?.(name, i + 1, entries.length);
    }
    return { at: now.toISOString(), steps, removed: steps.reduce((n, s) => n + s.removed, 0), failed: steps.filter((s) => !s.ok).length };
  }
}

/** Runs the sweeper every `intervalMs` (first run after `firstRunMs`); returns the stopper. */
export function startRetentionTimer(sweeper: RetentionSweeper, onReport: (r: RetentionReport) => void, intervalMs = 3_600_000, firstRunMs = 30_000): () => Promise<void> {
  let current: Promise<unknown> | undefined;
  const tick = (): void => {
    current = sweeper.run().then(onReport, () => undefined);
  };
  const first = setTimeout(tick, firstRunMs);
  const every = setInterval(tick, intervalMs);
  first.unref();
  every.unref();
  return async () => {
    clearTimeout(first);
    clearInterval(every);
    await current;
  };
}
