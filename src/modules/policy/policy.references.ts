import type { PolicyDocument, RetentionSpec, DurationSpec } from './policy.schema.js';
import { problem, type PolicyProblem } from './policy-problems.js';

const REQUEST_TYPES = ['access', 'export', 'rectify', 'erase_partial', 'erase_account', 'restrict', 'object'];

function checkDuration(path: (string | number)[], d: DurationSpec, out: PolicyProblem[]): void {
  if (d.period === undefined) out.push(problem([...path, 'period'], 'a duration needs a period'));
  if (d.unit === undefined) out.push(problem([...path, 'unit'], 'a duration needs a unit (minutes, hours, days, months or years)'));
}

function checkRetention(path: (string | number)[], r: RetentionSpec, out: PolicyProblem[]): void {
  if (r.while !== undefined) {
    if (r.period !== undefined || r.unit !== undefined) out.push(problem(path, 'give either "while" or a period with a unit, not both'));
    return;
  }
  if (r.period === undefined) out.push(problem([...path, 'period'], 'retention needs a period (or "while: account_active")'));
  if (r.unit === undefined) out.push(problem([...path, 'unit'], 'retention needs a unit (minutes, hours, days, months or years)'));
}

/** Checks everything the schema cannot: references between sections and the policy's own rules. */
export function checkReferences(doc: PolicyDocument): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const categories = new Set(Object.keys(doc.categories));
  const purposes = new Set(Object.keys(doc.purposes));
  const recipientTypes = new Set(Object.keys(doc.recipientTypes));
  const usedCategories = new Set<string>();

  for (const [key, category] of Object.entries(doc.categories)) checkRetention(['categories', key, 'retention'], category.retention, out);

  for (const [name, purpose] of Object.entries(doc.purposes)) {
    const seen = new Set<string>();
    purpose.categories.forEach((c, i) => {
      if (!categories.has(c)) out.push(problem(['purposes', name, 'categories', i], `unknown category ${c}`));
      else if (seen.has(c)) out.push(problem(['purposes', name, 'categories', i], `category ${c} is listed twice`));
      seen.add(c);
      usedCategories.add(c);
    });
    (purpose.recipientTypes ?? []).forEach((r, i) => {
      if (!recipientTypes.has(r)) out.push(problem(['purposes', name, 'recipientTypes', i], `unknown recipient type ${r}`));
    });
    if (purpose.legalBasis === 'consent') {
      if (purpose.consent?.withdrawable !== true) {
        out.push(problem(['purposes', name, 'consent', 'withdrawable'], 'a purpose based on consent must let people withdraw it (withdrawable: true)'));
      }
      if (purpose.consent?.expiresAfter) checkDuration(['purposes', name, 'consent', 'expiresAfter'], purpose.consent.expiresAfter, out);
    } else if (purpose.consent !== undefined) {
      out.push(problem(['purposes', name, 'consent'], `only a purpose with legal basis "consent" has consent settings (this one is ${purpose.legalBasis})`));
    }
  }

  for (const [key, category] of Object.entries(doc.categories)) {
    if (category.personal && !usedCategories.has(key)) out.push(problem(['categories', key], 'personal category is used by no purpose: say why it is collected or remove it'));
  }
  for (const [field, category] of Object.entries(doc.fields)) {
    if (!categories.has(category)) out.push(problem(['fields', field], `unknown category ${category}`));
  }
  for (const [cookie, purpose] of Object.entries(doc.cookies)) {
    if (!purposes.has(purpose)) out.push(problem(['cookies', cookie], `unknown purpose ${purpose}`));
  }
  for (const key of ['purpose', 'crashPurpose'] as const) {
    if (!purposes.has(doc.telemetry[key])) out.push(problem(['telemetry', key], `unknown purpose ${doc.telemetry[key]}`));
  }
  for (const [type, limit] of Object.entries(doc.requests.limits)) {
    if (!REQUEST_TYPES.includes(type)) out.push(problem(['requests', 'limits', type], `unknown request type ${type} (one of ${REQUEST_TYPES.join(', ')})`));
    checkDuration(['requests', 'limits', type, 'per'], limit.per, out);
  }
  for (const key of ['deadline', 'maxExtension', 'verificationWindow', 'exportLinkValidity'] as const) checkDuration(['requests', key], doc.requests[key], out);
  checkDuration(['children', 'erasureWithin'], doc.children.erasureWithin, out);
  checkDuration(['telemetry', 'pseudonymEpoch'], doc.telemetry.pseudonymEpoch, out);
  checkDuration(['telemetry', 'accessLogIpTruncateAfter'], doc.telemetry.accessLogIpTruncateAfter, out);
  checkDuration(['revisions', 'noticePeriod'], doc.revisions.noticePeriod, out);
  return out;
}
