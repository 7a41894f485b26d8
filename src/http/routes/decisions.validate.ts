import type { Decision } from '../../modules/consent/decision.js';

/** An ajv-shaped issue, so the one error handler renders these like every other validation failure. */
interface Issue {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  message: string;
  params: Record<string, unknown>;
}

type Validator = ((data: unknown) => boolean) & { errors?: Issue[] | null };

const KEYS = new Set(['subjectId', 'purpose', 'category', 'aggregate']);
const LIMITS: Record<string, number> = { subjectId: 128, purpose: 100, category: 200 };

function checkItem(x: unknown, path: string, out: Issue[]): void {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) {
    out.push({ schemaPath: '#', params: {}, instancePath: path, keyword: 'type', message: 'must be object' });
    return;
  }
  const o = x as Record<string, unknown>;
  for (const k in o) if (!KEYS.has(k)) out.push({ schemaPath: '#', instancePath: path, keyword: 'additionalProperties', message: 'must NOT have additional properties', params: { additionalProperty: k } });
  for (const [k, max] of Object.entries(LIMITS)) {
    const v = o[k];
    if (v === undefined) out.push({ schemaPath: '#', instancePath: path, keyword: 'required', message: `must have required property '${k}'`, params: { missingProperty: k } });
    else if (typeof v !== 'string') out.push({ schemaPath: '#', params: {}, instancePath: `${path}/${k}`, keyword: 'type', message: 'must be string' });
    else if (v.length < 1 || v.length > max) out.push({ schemaPath: '#', params: {}, instancePath: `${path}/${k}`, keyword: 'maxLength', message: `must be 1 to ${max} characters` });
  }
  if (o.aggregate !== undefined && typeof o.aggregate !== 'boolean') out.push({ schemaPath: '#', params: {}, instancePath: `${path}/aggregate`, keyword: 'type', message: 'must be boolean' });
}

/**
 * The batch body checked by hand: the same rules as the TypeBox schema (which stays for the OpenAPI document),
 * about ten times faster than the generic validator on 1,000 items — the batch route's largest cost.
 */
export const batchValidator: Validator = (data: unknown): boolean => {
  const out: Issue[] = [];
  if (typeof data !== 'object' || data === null || Array.isArray(data)) out.push({ schemaPath: '#', params: {}, instancePath: '', keyword: 'type', message: 'must be object' });
  else {
    const o = data as Record<string, unknown>;
    for (const k in o) if (k !== 'decisions') out.push({ schemaPath: '#', instancePath: '', keyword: 'additionalProperties', message: 'must NOT have additional properties', params: { additionalProperty: k } });
    const list = o.decisions;
    if (!Array.isArray(list)) out.push({ schemaPath: '#', params: {}, instancePath: '/decisions', keyword: 'type', message: 'must be array' });
    else if (list.length < 1 || list.length > 1000) out.push({ schemaPath: '#', params: {}, instancePath: '/decisions', keyword: 'maxItems', message: 'must hold 1 to 1000 items' });
    else for (let i = 0; i < list.length && out.length < 20; i++) checkItem(list[i], `/decisions/${i}`, out);
  }
  batchValidator.errors = out.length ? out : null;
  return out.length === 0;
};

// Decisions are frozen, shared objects (one per purpose × reason): each is turned into JSON once.
const jsonOf = new WeakMap<Decision, string>();

/** The batch answer as JSON text, from pre-serialised pieces; the presenter's four fields only. */
export function batchJson(decisions: readonly Decision[]): string {
  const parts = new Array<string>(decisions.length);
  for (let i = 0; i < decisions.length; i++) {
    const d = decisions[i]!;
    let s = jsonOf.get(d);
    if (s === undefined) {
      s = JSON.stringify({ allow: d.allow, reason: d.reason, legalBasis: d.legalBasis, policyVersion: d.policyVersion });
      jsonOf.set(d, s);
    }
    parts[i] = s;
  }
  return `{"decisions":[${parts.join(',')}]}`;
}
