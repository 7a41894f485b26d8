import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';

const POLL_MS = 250;
/** Rows older than this are pruned: every process polls far more often. */
const KEEP_MS = 5 * 60_000;

/**
 * SQLite has no NOTIFY: another process on the same file (the CLI running an erasure beside the server, a
 * second server) records its changes in `decision_changes`, in the changing transaction; every process polls
 * the rows after the last one it saw and drops those subjects' cached state (within ~250 ms).
 */
export class DecisionChangePoller {
  private lastSeq = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private busy = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly onChange: (subjectId: string) => void,
  ) {}

  async start(): Promise<void> {
    const row = await this.db.selectFrom('decision_changes').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
    this.lastSeq = Number(row?.seq ?? 0);
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const rows = await this.db.selectFrom('decision_changes').select(['seq', 'subject_id']).where('seq', '>', this.lastSeq).orderBy('seq').limit(5000).execute();
      for (const r of rows) {
        this.onChange(r.subject_id);
        this.lastSeq = r.seq;
      }
      if (++this.ticks % 240 === 0) await this.db.deleteFrom('decision_changes').where('at', '<', new Date(Date.now() - KEEP_MS).toISOString()).execute();
    } catch {
      // The store is closing or busy: the next tick tries again.
    } finally {
      this.busy = false;
    }
  }
}
