/**
 * Runs tasks with the same key one after another (in this process). Device activation reads, decides and
 * then writes in separate steps (see DevicesService), so two activations of one new device arriving
 * together would otherwise both insert a row. Several API instances on PostgreSQL would need a database
 * lock as well; one process per store is the supported set-up for the embedded engine.
 *
 * @example await lock.run(subjectId, () => activate(...))
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(task);
    this.tails.set(key, next);
    try {
      return await next;
    } finally {
      // The last task of a key removes its entry, so the map does not grow with every subject ever seen.
      if (this.tails.get(key) === next) this.tails.delete(key);
    }
  }
}
