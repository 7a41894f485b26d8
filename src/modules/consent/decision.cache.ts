import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { SubjectState } from './consent.js';
import { stateFromRows, type CompiledRules } from './decision.rules.js';
import type { ConsentCurrentRow } from './consent.table.js';
import * as repo from './consent.repository.js';

type Db = Kysely<Database> | Transaction<Database>;

const MAX_CACHED_SUBJECTS = 200_000;
/** A subject changed inside someone's open transaction is not cached until its commit is announced. */
const PENDING_MS = 10_000;

/**
 * Each subject's decision state (erased, restricted, child, consents) in memory, dropped on every change. A load
 * that raced with a change of its subject is used once but not kept, so the cache never outlives a change.
 */
export class SubjectStateCache {
  private readonly states = new Map<string, SubjectState>();
  private readonly pending = new Map<string, number>();
  private readonly loading = new Map<string, Promise<SubjectState>>();
  /**
   * Bumped by every invalidation; `invalidatedAt` records it per subject, so a load that raced with a change of
   * its subject does not cache what it read (changes of other subjects do not matter). `clearedAt` covers clear().
   */
  private generation = 0;
  private clearedAt = 0;
  private readonly invalidatedAt = new Map<string, number>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly rules: CompiledRules,
  ) {}

  get(subjectId: string): SubjectState | undefined {
    return this.states.get(subjectId);
  }

  /** Cached or freshly loaded; concurrent loads of one subject share a promise. */
  async stateOf(subjectId: string): Promise<SubjectState> {
    const cached = this.states.get(subjectId);
    if (cached) return cached;
    let p = this.loading.get(subjectId);
    if (!p) {
      p = this.loadMany([subjectId])
        .then((m) => m.get(subjectId) as SubjectState)
        .finally(() => this.loading.delete(subjectId));
      this.loading.set(subjectId, p);
    }
    return p;
  }

  /** With a transaction handle the state read is not cached: the transaction may still roll back. */
  async loadMany(subjectIds: readonly string[], trx?: Db): Promise<Map<string, SubjectState>> {
    const generation = this.generation;
    const db = trx ?? this.db;
    const [statuses, rows] = await Promise.all([repo.statusForMany(db, subjectIds), repo.currentForMany(db, subjectIds)]);
    const statusById = new Map(statuses.map((s) => [s.subject_id, s]));
    const rowsById = new Map<string, ConsentCurrentRow[]>();
    for (const r of rows) rowsById.set(r.subject_id, [...(rowsById.get(r.subject_id) ?? []), r]);
    const out = new Map<string, SubjectState>();
    for (const id of subjectIds) out.set(id, stateFromRows(this.rules, statusById.get(id), rowsById.get(id) ?? []));
    if (trx === undefined && this.clearedAt <= generation) {
      for (const [id, state] of out) if ((this.invalidatedAt.get(id) ?? 0) <= generation) this.remember(id, state);
    }
    return out;
  }

  /** A change of this subject is in an open transaction: keep it out of the cache until the commit is announced. */
  holdUntilCommit(subjectId: string): void {
    this.pending.set(subjectId, Date.now() + PENDING_MS);
  }

  /** Drops one subject's cached state (after a commit, or when told by another instance). */
  invalidate(subjectId: string): void {
    this.generation++;
    // Bounded: forgetting per-subject marks is safe when treated as a clear of everything in flight.
    if (this.invalidatedAt.size >= 10_000) {
      this.invalidatedAt.clear();
      this.clearedAt = this.generation;
    }
    this.invalidatedAt.set(subjectId, this.generation);
    this.states.delete(subjectId);
    // A load already in flight read the old state: callers from now on must not join it.
    this.loading.delete(subjectId);
  }

  /** The change held for this subject has committed: drop it, and cache it again from the next load. */
  committed(subjectId: string): void {
    this.pending.delete(subjectId);
    this.invalidate(subjectId);
  }

  clear(): void {
    this.generation++;
    this.clearedAt = this.generation;
    this.invalidatedAt.clear();
    this.states.clear();
    this.loading.clear();
  }

  private remember(subjectId: string, state: SubjectState): void {
    const until = this.pending.get(subjectId);
    if (until !== undefined) {
      if (until > Date.now()) return;
      this.pending.delete(subjectId);
    }
    // Bounded: the oldest entries (Map keeps insertion order) make room.
    if (this.states.size >= MAX_CACHED_SUBJECTS) {
      const oldest = this.states.keys().next();
      if (!oldest.done) this.states.delete(oldest.value);
    }
    this.states.set(subjectId, state);
  }
}
