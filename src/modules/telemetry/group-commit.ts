/**
 * Collects work from many senders and runs it as one batch, so that one commit acknowledges many MQTT
 * messages (mqtt.js hands a connection its next message only after the current one is acknowledged, so
 * throughput comes from many connections whose messages share a commit). One flush runs at a time;
 * what arrives meanwhile forms the next batch, so batches grow with load.
 */
export class GroupCommit<T> {
  private queue: { item: T; done: (error?: Error) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly flushBatch: (items: T[]) => Promise<void>,
    private readonly maxBatch = 2000,
    private readonly lingerMs = 2,
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
    while (this.queue.length > 0 || this.running) {
      this.kick();
      await this.running;
    }
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.running = this.flushBatch(batch.map((b) => b.item))
      .then(() => batch.forEach((b) => b.done()))
      .catch((e: unknown) => batch.forEach((b) => b.done(e instanceof Error ? e : new Error(String(e)))))
      .finally(() => {
        this.running = undefined;
        if (this.queue.length > 0) this.kick();
      });
  }
}
