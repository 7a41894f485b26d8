import type { Decision } from '../../modules/consent/decision.js';

// Decisions are frozen, shared objects (one per purpose × reason): each is turned into JSON once.
const jsonOf = new WeakMap<Decision, string>();

/** One decision as JSON text (the presenter's four fields), serialised once per shared decision object. */
export function decisionJson(d: Decision): string {
  let s = jsonOf.get(d);
  if (s === undefined) {
    s = JSON.stringify({ allow: d.allow, reason: d.reason, legalBasis: d.legalBasis, policyVersion: d.policyVersion });
    jsonOf.set(d, s);
  }
  return s;
}

/** The plain batch answer as JSON text, from pre-serialised pieces; the presenter's four fields only. */
export function batchJson(decisions: readonly Decision[]): string {
  const parts = new Array<string>(decisions.length);
  for (let i = 0; i < decisions.length; i++) parts[i] = decisionJson(decisions[i]!);
  return `{"decisions":[${parts.join(',')}]}`;
}

/**
 * The compact answer, mirroring the compact request: each distinct decision once in `answers`, and per item
 * (in request order) the index of its decision in `answer`.
 */
export function columnsJson(decisions: readonly Decision[]): string {
  const index = new Map<Decision, number>();
  const answers: string[] = [];
  const answer = new Array<number>(decisions.length);
  for (let i = 0; i < decisions.length; i++) {
    const d = decisions[i]!;
    let k = index.get(d);
    if (k === undefined) {
      k = answers.length;
      index.set(d, k);
      answers.push(decisionJson(d));
    }
    answer[i] = k;
  }
  return `{"answers":[${answers.join(',')}],"answer":[${answer.join(',')}]}`;
}
