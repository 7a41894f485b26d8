import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { Engine } from '../../internal/db/engine.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { Decision, DecisionGate, DecisionInput } from './decision.js';
import type { SubjectState } from './consent.js';
import { assertKnownCategory, compileRules, fixedAnswer, judge, knownRule, stateFromRows, type CompiledRules, type PurposeRule } from './decision.rules.js';
import { planColumns, planInputs, type BatchPlan, type DecisionColumns } from './decision.batch.js';
import { DecisionCacheSync } from './decision.sync.js';
import { DecisionChangePoller } from './decision.poll.js';
import type { ConsentCurrentRow } from './consent.table.js';
import * as repo from './consent.repository.js';

type Db = Kysely<Database> | Transaction<Database>;

const MAX_CACHED_SUBJECTS = 200_000;
/** A subject changed inside someone's open transaction is not cached until its commit is announced. */
const PENDING_MS = 10_000;

/**
 * The decision engine (R-USE-1 … R-USE-7, R-KID-2): the policy as flat lookup tables, each subject's state
 * cached in memory and dropped on every change. On PostgreSQL, changes are announced with NOTIFY inside the
 * changing transaction, so every instance (this one included) drops its copy when the change commits.
 */
export class DecisionEngine implements DecisionGate {
  readonly rules: CompiledRules;
  private readonly cache = new Map<string, SubjectState>();
  private readonly pending = new Map<string, number>();
  private readonly loading = new Map<string, Promise<SubjectState>>();
  /**
   * Bumped by every invalidation; `invalidatedAt` records it per subject, so a load that raced with a change of
   * its subject does not cache what it read (changes of other subjects do not matter). `clearedAt` covers clear().
   */
  private generation = 0;
  private clearedAt = 0;
  private readonly invalidatedAt = new Map<string, number>();
  private readonly sync: DecisionCacheSync | undefined;
  private readonly poller: DecisionChangePoller | undefined;
  private readonly instanceId = randomUUID();

  constructor(
    private readonly engine: Engine,
    policy: CompiledPolicy,
  ) {
    this.rules = compileRules(policy);
    this.sync = engine.pool ? new DecisionCacheSync(engine.pool, (id) => this.onRemoteChange(id), () => this.clear()) : undefined;
    this.poller = engine.kind === 'sqlite' ? new DecisionChangePoller(engine.db, (id) => this.invalidate(id)) : undefined;
  }

  async start(): Promise<void> {
    await this.sync?.start();
    await this.poller?.start();
  }

  async stop(): Promise<void> {
    this.poller?.stop();
    await this.sync?.stop();
  }

  /** For a warm cache: the decision, or undefined when the subject's state must be loaded first. */
  decideCached(input: DecisionInput): Decision | undefined {
    const rule = this.rules.byName.get(input.purpose);
    if (rule === undefined) return this.rules.undeclared;
    const fixed = fixedAnswer(rule, input.category, input.aggregate);
    if (fixed !== undefined) return fixed;
    const state = this.cache.get(input.subjectId);
    return state === undefined ? undefined : judge(rule, state);
  }

  /** Loads the subject's state on a cache miss. Any failure denies: nothing is allowed by default. */
  async decide(input: DecisionInput, db?: Db): Promise<Decision> {
    try {
      const fast = this.decideCached(input);
      if (fast !== undefined) return fast;
      const state = db?.isTransaction ? (await this.loadMany([input.subjectId], db)).get(input.subjectId)! : await this.stateOf(input.subjectId);
      return judge(this.rules.byName.get(input.purpose) as PurposeRule, state);
    } catch {
      return this.rules.error;
    }
  }

  /** For the HTTP API: like decide, but a purpose or category the policy does not know is the caller's error (400). */
  async decideChecked(input: DecisionInput): Promise<Decision> {
    knownRule(this.rules, input.purpose);
    assertKnownCategory(this.rules, input.category);
    return this.decideCached(input) ?? this.decide(input);
  }

  /** Many decisions with one round trip per batch of unknown subjects. */
  async decideMany(inputs: readonly DecisionInput[]): Promise<Decision[]> {
    let plan: BatchPlan;
    try {
      plan = planInputs(this.rules, inputs, false);
    } catch {
      return inputs.map(() => this.rules.error);
    }
    return this.complete(plan);
  }

  /** Like decideMany, but an unknown purpose or category is the caller's error (400). */
  async decideManyChecked(inputs: readonly DecisionInput[]): Promise<Decision[]> {
    return this.complete(planInputs(this.rules, inputs, true));
  }

  /** The compact batch format: answers in item order, as for decideManyChecked. */
  async decideColumnsChecked(columns: DecisionColumns): Promise<Decision[]> {
    return this.complete(planColumns(this.rules, columns));
  }

  /** Fills in what the subjects' states decide: the cache first, then one load for all the others. Any failure denies. */
  private async complete({ subjectIds, rules, out }: BatchPlan): Promise<Decision[]> {
    try {
      let missing: Set<string> | undefined;
      for (let i = 0; i < out.length; i++) {
        if (out[i] !== undefined) continue;
        const state = this.cache.get(subjectIds[i]!);
        if (state !== undefined) out[i] = judge(rules[i]!, state);
        else (missing ??= new Set()).add(subjectIds[i]!);
      }
      if (missing) {
        const loaded = await this.loadMany([...missing]);
        for (let i = 0; i < out.length; i++) {
          if (out[i] !== undefined) continue;
          const state = loaded.get(subjectIds[i]!);
          out[i] = state ? judge(rules[i]!, state) : this.rules.error;
        }
      }
      return out as Decision[];
    } catch {
      return out.map(() => this.rules.error);
    }
  }

  /** The subject's state as the engine sees it (cached or freshly loaded). */
  async stateOf(subjectId: string): Promise<SubjectState> {
    const cached = this.cache.get(subjectId);
    if (cached) return cached;
    let p = this.loading.get(subjectId);
    if (!p) {
      p = this.load(subjectId).finally(() => this.loading.delete(subjectId));
      this.loading.set(subjectId, p);
    }
    return p;
  }

  /** The subject-dependent part of a decision for a purpose, on a state already at hand. */
  judgeState(purpose: string, state: SubjectState): Decision {
    const rule = this.rules.byName.get(purpose);
    return rule ? judge(rule, state) : this.rules.undeclared;
  }

  /**
   * Called by every service that changes a decision input, inside its transaction. Drops the local copy now
   * and, on PostgreSQL, announces the change to every instance when the transaction commits.
   */
  async noteChange(db: Db, subjectId: string): Promise<void> {
    this.invalidate(subjectId);
    if (this.poller) await db.insertInto('decision_changes').values({ subject_id: subjectId, at: new Date().toISOString() }).execute();
    if (this.sync) {
      this.pending.set(subjectId, Date.now() + PENDING_MS);
      await sql`SELECT pg_notify(${this.sync.channel}, ${`${this.instanceId} ${subjectId}`})`.execute(db);
    }
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
    this.cache.delete(subjectId);
  }

  /** The change noted for this subject has committed (the caller owned the transaction): cache it again. */
  committed(subjectId: string): void {
    this.pending.delete(subjectId);
    this.invalidate(subjectId);
  }

  clear(): void {
    this.generation++;
    this.clearedAt = this.generation;
    this.invalidatedAt.clear();
    this.cache.clear();
  }

  /**
   * Payload `<instance> <subject>`. Our own notices count too (a change made in a caller's transaction is only
   * final at its commit); the instance id is there for diagnostics.
   */
  private onRemoteChange(payload: string): void {
    const subjectId = payload.slice(payload.indexOf(' ') + 1);
    this.pending.delete(subjectId);
    this.invalidate(subjectId);
  }

  private async load(subjectId: string): Promise<SubjectState> {
    return (await this.loadMany([subjectId])).get(subjectId) as SubjectState;
  }

  /** With a transaction handle the state read is not cached: the transaction may still roll back. */
  private async loadMany(subjectIds: readonly string[], trx?: Db): Promise<Map<string, SubjectState>> {
    const generation = this.generation;
    const db = trx ?? this.engine.db;
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

  private remember(subjectId: string, state: SubjectState): void {
    const until = this.pending.get(subjectId);
    if (until !== undefined) {
      if (until > Date.now()) return;
      this.pending.delete(subjectId);
    }
    // Bounded: the oldest entries (Map keeps insertion order) make room.
    if (this.cache.size >= MAX_CACHED_SUBJECTS) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(subjectId, state);
  }
}
