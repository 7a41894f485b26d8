import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import type { Engine } from '../../internal/db/engine.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { Decision, DecisionGate, DecisionInput } from './decision.js';
import type { SubjectState } from './consent.js';
import { assertKnownCategory, compileRules, fixedAnswer, judge, knownRule, type CompiledRules, type PurposeRule } from './decision.rules.js';
import { planColumns, planInputs, type BatchPlan, type DecisionColumns } from './decision.batch.js';
import { SubjectStateCache } from './decision.cache.js';
import { DecisionCacheSync } from './decision.sync.js';
import { DecisionChangePoller } from './decision.poll.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * The decision engine (R-USE-1 … R-USE-7, R-KID-2): the policy as flat lookup tables (decision.rules.ts), each
 * subject's state cached in memory and dropped on every change (decision.cache.ts). On PostgreSQL, changes are announced with NOTIFY inside the
 * changing transaction, so every instance (this one included) drops its copy when the change commits.
 */
export class DecisionEngine implements DecisionGate {
  readonly rules: CompiledRules;
  private readonly cache: SubjectStateCache;
  private readonly sync: DecisionCacheSync | undefined;
  private readonly poller: DecisionChangePoller | undefined;
  private readonly instanceId = randomUUID();

  constructor(engine: Engine, policy: CompiledPolicy) {
    this.rules = compileRules(policy);
    this.cache = new SubjectStateCache(engine.db, this.rules);
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
      const state = db?.isTransaction ? (await this.cache.loadMany([input.subjectId], db)).get(input.subjectId)! : await this.stateOf(input.subjectId);
      return judge(this.rules.byName.get(input.purpose) as PurposeRule, state);
    } catch {
      return this.rules.error;
    }
  }

  /** For the HTTP API: like decide, but a purpose or category the policy does not know is the caller's error (400). */
  async decideChecked(input: DecisionInput): Promise<Decision> {
    return this.decideCheckedCached(input) ?? this.decide(input);
  }

  /**
   * decideChecked without a promise when the cache answers (the single-decision route's hot path: a promise and
   * a microtask per request show in its figures); undefined when the subject's state must be loaded.
   */
  decideCheckedCached(input: DecisionInput): Decision | undefined {
    knownRule(this.rules, input.purpose);
    assertKnownCategory(this.rules, input.category);
    return this.decideCached(input);
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
        const loaded = await this.cache.loadMany([...missing]);
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
    return this.cache.stateOf(subjectId);
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
      this.cache.holdUntilCommit(subjectId);
      await sql`SELECT pg_notify(${this.sync.channel}, ${`${this.instanceId} ${subjectId}`})`.execute(db);
    }
  }

  /** Drops one subject's cached state (after a commit, or when told by another instance). */
  invalidate(subjectId: string): void {
    this.cache.invalidate(subjectId);
  }

  /** The change noted for this subject has committed (the caller owned the transaction): cache it again. */
  committed(subjectId: string): void {
    this.cache.committed(subjectId);
  }

  clear(): void {
    this.cache.clear();
  }

  /**
   * Payload `<instance> <subject>`. Our own notices count too (a change made in a caller's transaction is only
   * final at its commit); the instance id is there for diagnostics.
   */
  private onRemoteChange(payload: string): void {
    this.cache.committed(payload.slice(payload.indexOf(' ') + 1));
  }
}
