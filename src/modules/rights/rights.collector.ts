import { randomUUID } from 'node:crypto';
import type { ActorContext } from '../../internal/context.js';
import { isAppError } from '../../internal/errors/app-error.js';
import { pageByOthersAbout } from '../audit/audit.repository.js';
import { keysetWalk } from '../../internal/db/keyset.js';
import { eventsPage, type EventCursor } from '../consent/consent.repository.js';
import type { RightsDeps } from './rights.deps.js';
import { toRequest } from './rights.mapper.js';
import * as repo from './rights.repository.js';
import { EXPORT_SCHEMA_ID } from './rights.export.js';
import { HOLD_REASON } from './rights.holds.js';

/**
 * One part of what we hold about a person: a single value, or a list produced item by item. Both are thunks,
 * so nothing is read before the writer reaches the section (the export streams; it never holds all sections).
 */
export type Section = { readonly name: string; readonly value: () => Promise<unknown> } | { readonly name: string; readonly items: () => AsyncIterable<unknown> };

export const TELEMETRY_NOTE =
  'Usage statistics of the User Experience Program are stored under a pseudonym that changes every epoch and is not ' +
  'kept with your account; once an epoch ends we can no longer tell which events were yours, so they are described here, not included.';

/** Rows per page when orders, legal holds and accesses are walked: one page is in memory at a time, whatever the total. */
const EXPORT_PAGE = 1000;

/** A store the document could not read in full, and why (a code, never a value). */
interface Missing {
  readonly store: string;
  readonly reason: string;
}

async function* each<T, U>(list: () => Promise<readonly T[]>, map: (t: T) => U | undefined): AsyncGenerator<U> {
  for (const x of await list()) {
    const y = map(x);
    if (y !== undefined) yield y;
  }
}

const none = (): Promise<never[]> => Promise.resolve([]);

/**
 * Everything held about a person, store by store (R-DSR-1, R-DSR-6), read through each owning module's service
 * for the purpose `subject_rights`. A store whose module is not wired is named under `notIncluded`.
 */
export function collect(deps: RightsDeps, subjectId: string): Section[] {
  const ctx: ActorContext = { actor: { type: 'user', id: subjectId }, requestId: randomUUID(), purpose: 'subject_rights' };
  const { db, accounts, orders, devices, contacts, sealed, ledger } = deps;
  const pageSize = deps.exportPageSize ?? EXPORT_PAGE;
  // Filled in while the sections are read (a store failing part-way is named too): `notIncluded` is read last.
  const missing: Missing[] = [];
  if (!accounts) missing.push({ store: 'account', reason: 'module not available in this build' });
  if (!orders) missing.push({ store: 'orders', reason: 'module not available in this build' });
  if (!devices) missing.push({ store: 'devices', reason: 'module not available in this build' });
  if (!ledger) missing.push({ store: 'consents', reason: 'module not available in this build' });
  if (!contacts) missing.push({ store: 'contacts', reason: 'module not available in this build' });
  if (!sealed) missing.push({ store: 'sealedValues', reason: 'module not available in this build' });
  return [
    { name: 'subjectId', value: async () => subjectId },
    { name: 'generatedAt', value: async () => new Date().toISOString() },
    { name: 'policyVersion', value: async () => deps.policy.version },
    { name: 'account', value: async () => (accounts ? accounts.profile(db, subjectId, 'subject_rights').catch(() => null) : null) },
    // Orders: all of them, page by page; the card appears as token, brand and last four digits only (the number was never stored).
    { name: 'orders', items: () => (orders ? asFarAsReadable('orders', missing, orders.everyOrder(ctx, pageSize)) : each(none, (x) => x)) },
    // Devices: the current location only, at the precision it was stored with.
    { name: 'devices', items: () => each(devices ? () => devices.list(ctx).catch(() => []) : none, (d) => d) },
    // People the person shared with: what the person gave us about them, nothing the contact added themselves.
    { name: 'contacts', items: () => each(contacts ? () => contacts.list(ctx).catch(() => []) : none, (c) => c) },
    // Values the person sealed with their own key: handed back as the JWE we hold, which only they can open.
    { name: 'sealedValues', items: () => sealedValues(deps, ctx) },
    { name: 'consents', value: async () => (ledger ? ledger.list(db, subjectId) : []) },
    {
      name: 'consentEvents',
      items: () => (ledger ? consentEvents(deps, subjectId) : each(none, (x) => x)),
    },
    {
      name: 'requests',
      items: () =>
        each(
          () => repo.requestsOf(db, subjectId),
          (r) => {
            const q = toRequest(r, []);
            return { id: q.id, type: q.type, status: q.status, receivedAt: q.receivedAt, dueAt: q.dueAt, completedAt: q.completedAt, declineReason: q.declineReason, verificationMethod: q.verificationMethod };
          },
        ),
    },
    { name: 'corrections', items: () => each(() => repo.correctionsOf(db, subjectId), (c) => ({ field: c.field, at: c.at, requestId: c.request_id })) },
    // Accesses by anyone but the person: staff, services and jobs that read or changed their data, every one of them.
    { name: 'accesses', items: () => accesses(deps, subjectId, pageSize) },
    { name: 'legalHolds', items: () => legalHolds(deps, subjectId, ctx, pageSize, missing) },
    { name: 'telemetry', value: async () => ({ included: false, description: TELEMETRY_NOTE }) },
    { name: 'notIncluded', value: async () => missing },
  ];
}

async function* sealedValues(deps: RightsDeps, ctx: ActorContext): AsyncGenerator<unknown> {
  if (!deps.sealed) return;
  for (const { name } of await deps.sealed.list(ctx).catch(() => [])) {
    const v = await deps.sealed.get(ctx, name).catch(() => undefined);
    if (v) yield { name: v.name, jwe: v.jwe, updatedAt: v.updatedAt };
  }
}

/**
 * A store's items as far as they can be read. A store failing part-way (its key shredded meanwhile, a decision
 * denied) ends its list there and is named under `notIncluded`, so a short list is never handed over as the whole.
 */
async function* asFarAsReadable<T>(store: string, missing: Missing[], items: AsyncIterable<T>): AsyncGenerator<T> {
  let read = 0;
  try {
    for await (const x of items) {
      yield x;
      read++;
    }
  } catch (e) {
    const code = isAppError(e) ? e.code : 'READ_FAILED';
    missing.push({ store, reason: read === 0 ? `could not be read (${code})` : `only the first ${read} items could be read (${code})` });
  }
}

/**
 * Every audit entry about the person written by someone else, oldest first, page by page: the audit module filters
 * out the person's own entries in SQL, so no page fills up with them and no one else's access is cut off.
 */
async function* accesses(deps: RightsDeps, subjectId: string, pageSize: number): AsyncGenerator<unknown> {
  const rows = keysetWalk((after: number | undefined) => pageByOthersAbout(deps.db, subjectId, after ?? 0, pageSize), pageSize, (a) => a.seq);
  for await (const a of rows) yield { at: a.at, actor: a.actor, action: a.action, purpose: a.purpose };
}

/**
 * Records kept for a legal reason, with the reason and the end date, page by page: holds kept after erasure, then
 * the tax retention of the person's own orders. No order is listed twice: the erasure re-keys an order to its hold
 * subject (so it leaves the person's orders) in the same transaction that records its hold.
 */
async function* legalHolds(deps: RightsDeps, subjectId: string, ctx: ActorContext, pageSize: number, missing: Missing[]): AsyncGenerator<unknown> {
  const kept = keysetWalk((from: repo.HoldCursor | undefined) => repo.holdsPage(deps.db, subjectId, from, pageSize), pageSize, (h) => ({ until: h.until, recordType: h.record_type, recordId: h.record_id }));
  for await (const h of kept) yield { record: `${h.record_type}:${h.record_id}`, reason: h.reason, until: h.until };
  if (!deps.orders) return;
  for await (const o of asFarAsReadable('legalHolds', missing, deps.orders.holds(ctx, pageSize))) yield { record: `order:${o.id}`, reason: HOLD_REASON, until: o.legalHoldUntil };
}

/** The whole document in memory, for `GET /v1/me/data` (the export streams the same sections to a file instead). */
export async function collectAll(deps: RightsDeps, subjectId: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { $schema: EXPORT_SCHEMA_ID };
  for (const s of collect(deps, subjectId)) {
    if ('value' in s) out[s.name] = await s.value();
    else {
      const list: unknown[] = [];
      for await (const x of s.items()) list.push(x);
      out[s.name] = list;
    }
  }
  return out;
}

const PAGE = 2000;

/**
 * The consent history in pages of 2,000, in ledger order, through the consent module's paged read: the ledger's
 * own `history` returns the whole list, which for a person with 100k events is what the export must not hold.
 */
async function* consentEvents(deps: RightsDeps, subjectId: string): AsyncGenerator<unknown> {
  const rows = keysetWalk((after: EventCursor | undefined) => eventsPage(deps.db, subjectId, after ?? { at: '', id: '' }, PAGE), PAGE, (e) => ({ at: e.at, id: e.id }));
  for await (const e of rows) yield { id: e.id, purpose: e.purpose, status: e.status, source: e.source, collectionMethod: e.collection_method, at: e.at, policyVersion: e.policy_version, receiptId: e.receipt_id };
}
