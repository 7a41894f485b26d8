/**
 * Collects work from many senders and runs it as one batch, so that one commit acknowledges many MQTT
 * messages (each acknowledged only after that commit). Up to `parallel` flushes run at a
 * time; what arrives meanwhile forms the next batch, so batches grow with load.
 */
export class GroupCommit<T> {
  private queue: { item: T; done: (error?: Error) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly flushBatch: (items: T[]) => Promise<void>,
    private readonly maxBatch = 2000,
    private readonly lingerMs = 2,
    /** Flushes in flight at once (PostgreSQL commits in parallel; SQLite serialises them anyway). */
    private readonly parallel = 1,
  ) {}

  /** Resolves when the item's batch is committed; rejects when the batch failed (nothing of it committed). */
  submit(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, done: (e) => (e ? reject(e) : resolve()) });
      if (this.queue.length >= this.maxBatch) this.kick();
      else this.timer ??= setTimeout(() => this.kick(), this.lingerMs);
    });
  }

  /** Waits until everything submitted so far is flushed. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running.size > 0) {
      this.kick();
      await Promise.all(this.running);
    }
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running.size >= this.parallel || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatch);
    const run: Promise<void> = this.flushBatch(batch.map((b) => b.item))
      .then(() => batch.forEach((b) => b.done()))
      .catch((e: unknown) => batch.forEach((b) => b.done(e instanceof Error ? e : new Error(String(e)))))
      .finally(() => {
        this.running.delete(run);
        if (this.queue.length > 0) this.kick();
      });
    this.running.add(run);
  }
}
