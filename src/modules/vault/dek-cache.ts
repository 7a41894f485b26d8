/** An unwrapped data key with the version bound into its ciphertexts. */
export interface CachedDek {
  readonly dek: Buffer;
  readonly dekVersion: number;
}

/**
 * A small LRU of unwrapped DEKs with a short TTL: reading several fields or rows of one subject costs one
 * unwrap, and a key shredded by another process stops being usable here within `ttlMs`.
 * Map iteration order is insertion order, so re-inserting on hit makes the first key the least recent.
 */
export class DekCache {
  private readonly entries = new Map<string, CachedDek & { readonly expires: number }>();
  /** Subjects shredded by this process lately: a read racing the shred must not put the key back. */
  private readonly shredded = new Map<string, number>();
  constructor(
    private readonly max = 10_000,
    private readonly ttlMs = 30_000,
  ) {}

  get(subjectId: string): CachedDek | undefined {
    const e = this.entries.get(subjectId);
    if (!e) return undefined;
    this.entries.delete(subjectId);
    if (e.expires < Date.now()) return undefined;
    this.entries.set(subjectId, e);
    return e;
  }

  set(subjectId: string, value: CachedDek): void {
    const until = this.shredded.get(subjectId);
    if (until !== undefined) {
      if (until > Date.now()) return;
      this.shredded.delete(subjectId);
    }
    this.entries.delete(subjectId);
    this.entries.set(subjectId, { ...value, expires: Date.now() + this.ttlMs });
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  /** Drops the key and refuses to cache it again for one TTL (it may be read once more before the shred commits). */
  forget(subjectId: string): void {
    this.entries.delete(subjectId);
    this.shredded.set(subjectId, Date.now() + this.ttlMs);
    if (this.shredded.size > this.max) {
      const oldest = this.shredded.keys().next().value;
      if (oldest !== undefined) this.shredded.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
