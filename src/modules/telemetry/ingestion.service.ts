import type { Engine } from '../../internal/db/engine.js';
import { AppError, isAppError } from '../../internal/errors/app-error.js';
import { systemContext } from '../../internal/context.js';
import type { DecisionGate, DecisionReason } from '../consent/decision.js';
import type { CompiledPolicy } from '../policy/policy.js';
import { validateBatch, type ValidEvent } from './event-validator.js';
import type { Pseudonyms } from './pseudonyms.js';
import { TELEMETRY_COLUMNS, insertEvents } from './telemetry.repository.js';
import { assertStoredFields } from './stored-fields.js';
import type { NewTelemetryEventRow } from './telemetry.table.js';

export const MAX_BATCH = 1000;

/** Whose events these are, and the coarse attributes they may carry (from the device token or the app). */
export interface TelemetrySource {
  readonly subjectId: string;
  readonly model: string | null;
  readonly firmware: string | null;
  readonly region: string | null;
}

export interface IngestItem {
  readonly source: TelemetrySource;
  readonly events: readonly unknown[];
}

/** Per item: how many events were stored, or why the item was refused (then nothing of it was stored). */
export type IngestOutcome = { readonly accepted: number } | { readonly refused: AppError };

/** Maps a refusal of the decision engine to the code a device or app is told. */
export function refusalCode(reason: DecisionReason): 'CONSENT_WITHDRAWN' | 'SUBJECT_IS_CHILD' | 'CONSENT_MISSING' {
  if (reason === 'CONSENT_WITHDRAWN' || reason === 'CONSENT_EXPIRED') return 'CONSENT_WITHDRAWN';
  if (reason === 'SUBJECT_IS_CHILD') return 'SUBJECT_IS_CHILD';
  return 'CONSENT_MISSING';
}

/**
 * Usage-event ingestion (R-TEL-2, R-CHO-2, R-KID-2): validate every event against the policy, ask the decision
 * engine whether the owner is in the User Experience Program right now, and store the batch under the owner's
 * epoch pseudonym. A refused item stores nothing.
 *
 * Ingestion is not written to the audit log on purpose: an entry naming the subject at the time of each batch
 * would re-link the pseudonymous events to the person. Link removals are audited.
 */
export class TelemetryIngestion {
  constructor(
    private readonly engine: Engine,
    private readonly policy: CompiledPolicy,
    private readonly gate: DecisionGate,
    private readonly pseudonyms: Pseudonyms,
  ) {}

  /** One batch from one sender; throws the refusal. */
  async ingest(source: TelemetrySource, events: readonly unknown[], nowMs = Date.now()): Promise<{ accepted: number }> {
    const [outcome] = await this.ingestMany([{ source, events }], nowMs);
    if (outcome === undefined || 'refused' in outcome) throw outcome?.refused ?? new AppError('INTERNAL');
    return outcome;
  }

  /**
   * Many batches (an MQTT group commit): refusals are per item, the accepted rows of all items are stored in one
   * COPY / transaction. Resolves only after that commit; throws (storing nothing) when the store fails.
   */
  async ingestMany(items: readonly IngestItem[], nowMs = Date.now()): Promise<IngestOutcome[]> {
    const checked = await Promise.all(items.map((item) => this.check(item, nowMs)));
    const admitted = checked.filter((c): c is ValidEvent[] => Array.isArray(c));
    const subjects = items.filter((_, i) => Array.isArray(checked[i])).map((it) => it.source.subjectId);
    const pseudonyms = admitted.length > 0 ? await this.pseudonyms.pseudonymsFor(this.engine.db, subjects, nowMs) : new Map<string, string>();
    const rows: NewTelemetryEventRow[] = [];
    const outcomes = items.map((item, i): IngestOutcome => {
      const c = checked[i];
      if (!Array.isArray(c)) return { refused: c as AppError };
      const pseudonym = pseudonyms.get(item.source.subjectId) as string;
      const { model, firmware, region } = item.source;
      for (const e of c) rows.push({ pseudonym, event: e.event, fields: JSON.stringify(e.fields), model, firmware, region, day: e.day });
      return { accepted: c.length };
    });
    assertStoredFields(this.policy, 'telemetry_events', TELEMETRY_COLUMNS);
    await insertEvents(this.engine, rows);
    // The batch is stored: this clean-up must not fail it (a failure would make the sender send it again); the
    // `telemetry.links_of_leavers` sweep is the backstop.
    if (admitted.length > 0) await this.forgetLeaversAmong(subjects).catch(() => undefined);
    return outcomes;
  }

  /**
   * A withdrawal that committed between an item's consent check and its link insert above has had its link
   * re-created. Asked again after the commit (a cached decision, invalidated when a withdrawal commits), such a
   * person's link goes at once rather than at the next `telemetry.links_of_leavers` sweep.
   */
  private async forgetLeaversAmong(subjectIds: readonly string[]): Promise<void> {
    for (const subjectId of new Set(subjectIds)) {
      const decision = await this.gate.decide({ subjectId, category: 'user.telemetry', purpose: this.policy.telemetry.purpose });
      if (!decision.allow) await this.pseudonyms.forget(this.engine.db, systemContext('telemetry.ingest'), subjectId);
    }
  }

  private async check(item: IngestItem, nowMs: number): Promise<ValidEvent[] | AppError> {
    try {
      if (item.events.length > MAX_BATCH) throw new AppError('TOO_MANY_EVENTS', `A batch holds at most ${MAX_BATCH} events`, { max: MAX_BATCH });
      const events = validateBatch(this.policy, item.events, nowMs);
      await this.admit(item.source.subjectId);
      return events;
    } catch (e) {
      if (isAppError(e)) return e;
      throw e;
    }
  }

  /** Throws CONSENT_MISSING / CONSENT_WITHDRAWN / SUBJECT_IS_CHILD unless the owner is opted in now. */
  async admit(subjectId: string): Promise<void> {
    const decision = await this.gate.decide({ subjectId, category: 'user.telemetry', purpose: this.policy.telemetry.purpose });
    if (decision.allow) return;
    const code = refusalCode(decision.reason);
    // The switch was turned off without the ledger telling us (or before we existed): drop the link now.
    if (code !== 'CONSENT_MISSING') await this.pseudonyms.forget(this.engine.db, systemContext('telemetry.ingest'), subjectId);
    throw new AppError(code, undefined, { reason: decision.reason });
  }
}
