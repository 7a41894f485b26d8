import type { PolicyDocument } from './policy.schema.js';
import type { CompiledCategory, CompiledPolicy, CompiledPurpose, RequestLimit } from './policy.js';
import { durationMs, durationText } from './duration.js';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Compiles a checked policy document (schema and references already passed). */
export function compilePolicy(doc: PolicyDocument, hash: string): CompiledPolicy {
  const categories = new Map<string, CompiledCategory>();
  for (const [key, c] of Object.entries(doc.categories)) {
    const r = c.retention;
    categories.set(key, Object.freeze({
      key,
      personal: c.personal,
      description: c.description,
      extension: c.extension ?? false,
      retentionMs: r.while ? undefined : durationMs(r),
      retentionAfter: r.while ? 'account_closed' : r.after ?? 'collected',
      retentionText: r.while ? 'while the account is active' : `${durationText(r)} after ${(r.after ?? 'collection').replace(/_/g, ' ')}`,
    }));
  }
  const purposes = new Map<string, CompiledPurpose>();
  for (const [name, p] of Object.entries(doc.purposes)) {
    purposes.set(name, Object.freeze({
      name,
      title: p.title,
      dataUse: p.dataUse,
      legalBasis: p.legalBasis,
      needsConsent: p.legalBasis === 'consent',
      consentExpiresMs: p.consent?.expiresAfter ? durationMs(p.consent.expiresAfter) : undefined,
      categories: new Set(p.categories),
      recipientTypes: Object.freeze([...(p.recipientTypes ?? [])]),
      aggregatesOnly: p.aggregatesOnly ?? false,
      childAllowed: p.childAllowed ?? true,
      gpcOptOut: p.gpcOptOut ?? false,
    }));
  }
  const limits = new Map<string, RequestLimit>();
  for (const [type, l] of Object.entries(doc.requests.limits)) limits.set(type, Object.freeze({ max: l.max, perMs: durationMs(l.per) }));
  const events = new Map(Object.entries(doc.telemetry.events).map(([k, v]) => [k, Object.freeze({ ...v })] as const));

  return Object.freeze({
    version: doc.version,
    hash,
    name: doc.name,
    controller: doc.controller,
    categories,
    purposes,
    fields: new Map(Object.entries(doc.fields)),
    consentPurposes: Object.freeze([...purposes.values()].filter((p) => p.needsConsent).map((p) => p.name)),
    cookies: doc.cookies,
    children: Object.freeze({
      defaultThreshold: doc.children.ageThreshold,
      regions: new Map(Object.entries(doc.children.regions)),
      erasureWithinMs: durationMs(doc.children.erasureWithin),
    }),
    requests: Object.freeze({
      deadlineMs: durationMs(doc.requests.deadline),
      maxExtensionMs: durationMs(doc.requests.maxExtension),
      verificationWindowMs: durationMs(doc.requests.verificationWindow),
      exportLinkMs: durationMs(doc.requests.exportLinkValidity),
      limits,
    }),
    telemetry: Object.freeze({
      purpose: doc.telemetry.purpose,
      crashPurpose: doc.telemetry.crashPurpose,
      pseudonymEpochMs: durationMs(doc.telemetry.pseudonymEpoch),
      minGroupSize: doc.telemetry.minGroupSize,
      epsilon: doc.telemetry.epsilon,
      delta: doc.telemetry.delta,
      budgetPerEpoch: doc.telemetry.budgetPerEpoch,
      maxGroupsPerPseudonym: doc.telemetry.maxGroupsPerPseudonym,
      accessLogIpTruncateAfterMs: durationMs(doc.telemetry.accessLogIpTruncateAfter),
      events,
    }),
    revisions: Object.freeze({ noticePeriodMs: durationMs(doc.revisions.noticePeriod) }),
    recipientTypes: new Map(Object.entries(doc.recipientTypes).map(([k, v]) => [k, v.description])),
    document: deepFreeze(structuredClone(doc)),
  });
}

/** The child age threshold for a region (R-KID-1), falling back to the policy default. */
export const ageThreshold = (policy: CompiledPolicy, region: string | undefined): number =>
  (region !== undefined ? policy.children.regions.get(region.toUpperCase()) : undefined) ?? policy.children.defaultThreshold;
