import { AppError } from '../../internal/errors/app-error.js';
import type { CompiledPolicy } from '../policy/policy.js';
import { findPii } from './pii-scanner.js';

export type FieldValue = string | number | boolean;

/** An event as a device or app sends it. */
export interface IncomingEvent {
  readonly event: string;
  /** When it happened (ISO-8601); only its day is kept. Defaults to now. */
  readonly at?: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** A validated event: a declared name, declared fields of the declared types, and the day. */
export interface ValidEvent {
  readonly event: string;
  readonly day: string;
  readonly fields: Readonly<Record<string, FieldValue>>;
}

const MAX_STRING = 120;
/** How far back and ahead of its receipt an event's `at` may lie (R-AGG-1 budgets by the epochs this spans). */
export const MAX_AGE_MS = 31 * 86_400_000;
export const MAX_SKEW_MS = 86_400_000;
// Only a string with "@" / "%40" / "(at)", four digits or two colons can hold an address, a number or an IP.
const MAY_HOLD_PII = /@|%40|[([{]at[)\]}]|\d\D*\d\D*\d\D*\d|:.*:/i;
// Field values repeat (screens, features, modes): each distinct value is scanned once.
const scanned = new Map<string, boolean>();
function holdsPii(value: string): boolean {
  if (!MAY_HOLD_PII.test(value)) return false;
  let hit = scanned.get(value);
  if (hit === undefined) {
    hit = findPii(value).length > 0;
    if (scanned.size > 50_000) scanned.clear();
    scanned.set(value, hit);
  }
  return hit;
}

const refuse = (code: 'UNKNOWN_EVENT' | 'EVENT_FIELD_INVALID' | 'PII_IN_EVENT', message: string, index: number, field?: string): AppError =>
  new AppError(code, message, { index, ...(field ? { field } : {}) });

function dayOf(at: unknown, index: number, now: number, today?: string): string {
  if (at === undefined) return today ?? new Date(now).toISOString().slice(0, 10);
  const ms = typeof at === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(at) ? Date.parse(at) : Number.NaN;
  if (!Number.isFinite(ms) || ms > now + MAX_SKEW_MS || ms < now - MAX_AGE_MS) {
    throw refuse('EVENT_FIELD_INVALID', `Event ${index}: "at" must be an ISO-8601 time within the last 31 days`, index, 'at');
  }
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * R-TEL-2 / R-CLS-1: an event is stored only when the policy declares its name and every field it carries,
 * with the declared type. String values are scanned (R-CLS-3): a field holding an e-mail, phone, IMEI, card
 * or IP refuses the event rather than storing personal data in a non-personal store.
 */
export function validateEvent(policy: CompiledPolicy, raw: unknown, index: number, now: number, today?: string): ValidEvent {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw refuse('EVENT_FIELD_INVALID', `Event ${index} is not an object`, index);
  const { event, at, fields, ...rest } = raw as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw refuse('EVENT_FIELD_INVALID', `Event ${index}: "${extra.slice(0, 40)}" is not part of an event (event, at, fields)`, index, extra.slice(0, 40));
  const declared = typeof event === 'string' ? policy.telemetry.events.get(event) : undefined;
  if (declared === undefined) throw refuse('UNKNOWN_EVENT', `Event ${index}: the event name is not declared in the policy`, index);
  if (fields !== undefined && (fields === null || typeof fields !== 'object' || Array.isArray(fields))) {
    throw refuse('EVENT_FIELD_INVALID', `Event ${index}: "fields" must be an object`, index, 'fields');
  }
  const out: Record<string, FieldValue> = {};
  for (const [name, value] of Object.entries((fields ?? {}) as Record<string, unknown>)) {
    const type = Object.hasOwn(declared, name) ? declared[name] : undefined;
    if (type === undefined) throw refuse('EVENT_FIELD_INVALID', `Event ${index}: the field ${name.slice(0, 40)} is not declared for ${String(event)}`, index, name.slice(0, 40));
    const ok = type === 'number' ? typeof value === 'number' && Number.isFinite(value) : typeof value === type;
    if (!ok) throw refuse('EVENT_FIELD_INVALID', `Event ${index}: the field ${name} must be a ${type}`, index, name);
    if (typeof value === 'string') {
      if (value.length > MAX_STRING) throw refuse('EVENT_FIELD_INVALID', `Event ${index}: the field ${name} is longer than ${MAX_STRING} characters`, index, name);
      if (holdsPii(value)) throw refuse('PII_IN_EVENT', `Event ${index}: the field ${name} holds personal data`, index, name);
    }
    out[name] = value as FieldValue;
  }
  return { event: event as string, day: dayOf(at, index, now, today), fields: out };
}

/** Validates a whole batch; the first bad event refuses the batch, so nothing of it is stored. */
export function validateBatch(policy: CompiledPolicy, raws: readonly unknown[], now = Date.now()): ValidEvent[] {
  const today = new Date(now).toISOString().slice(0, 10);
  return raws.map((raw, i) => validateEvent(policy, raw, i, now, today));
}
