import type { Decision, DecisionInput } from './decision.js';
import { assertKnownCategory, fixedAnswer, knownRule, type CompiledRules, type PurposeRule } from './decision.rules.js';

/**
 * Many decisions in column form (the batch API's compact format): each purpose and category is named once and
 * items refer to them by index, so the policy is consulted once per name rather than once per item. Indices and
 * lengths are the caller's to check (the HTTP validator does).
 */
export interface DecisionColumns {
  readonly purposes: readonly string[];
  readonly categories: readonly string[];
  readonly subjectIds: readonly string[];
  /** Per item, an index into `purposes`; may be left out when there is only one. */
  readonly purpose?: readonly number[];
  /** Per item, an index into `categories`; may be left out when there is only one. */
  readonly category?: readonly number[];
  readonly aggregate?: readonly boolean[];
}

/**
 * A batch whose policy part is settled: `out[i]` is the answer already, or, when undefined, the state of
 * `subjectIds[i]` decides under `rules[i]`.
 */
export interface BatchPlan {
  readonly subjectIds: readonly string[];
  readonly rules: readonly (PurposeRule | undefined)[];
  readonly out: (Decision | undefined)[];
}

/**
 * `checked`: a purpose or category the policy does not declare is the caller's error (UNKNOWN_PURPOSE /
 * UNKNOWN_CATEGORY, the first offending item wins); otherwise an undeclared purpose is denied like any other.
 */
export function planInputs(rules: CompiledRules, inputs: readonly DecisionInput[], checked: boolean): BatchPlan {
  const n = inputs.length;
  const plan: BatchPlan = { subjectIds: new Array<string>(n), rules: new Array<PurposeRule | undefined>(n), out: new Array<Decision | undefined>(n) };
  const subjectIds = plan.subjectIds as string[];
  const perItem = plan.rules as (PurposeRule | undefined)[];
  for (let i = 0; i < n; i++) {
    const input = inputs[i]!;
    subjectIds[i] = input.subjectId;
    const rule = checked ? knownRule(rules, input.purpose) : rules.byName.get(input.purpose);
    if (rule === undefined) {
      plan.out[i] = rules.undeclared;
      continue;
    }
    const fixed = fixedAnswer(rule, input.category, input.aggregate);
    // A category the purpose does not list may be one the policy does not know at all.
    if (checked && fixed === rule.out.CATEGORY_NOT_ALLOWED_FOR_PURPOSE) assertKnownCategory(rules, input.category);
    perItem[i] = rule;
    plan.out[i] = fixed;
  }
  return plan;
}

/** Always checked: every name in the dictionaries must be declared, whether or not an item refers to it. */
export function planColumns(rules: CompiledRules, cols: DecisionColumns): BatchPlan {
  const named = cols.purposes.map((p) => knownRule(rules, p));
  for (const c of cols.categories) assertKnownCategory(rules, c);
  const n = cols.subjectIds.length;
  const perItem = new Array<PurposeRule>(n);
  const out = new Array<Decision | undefined>(n);
  const { purpose, category, aggregate } = cols;
  // The policy's answer per purpose × category × aggregate, worked out at first use: items then cost an index.
  const fixed = new Map<number, Decision | null>();
  const width = cols.categories.length;
  for (let i = 0; i < n; i++) {
    const p = purpose === undefined ? 0 : purpose[i]!;
    const c = category === undefined ? 0 : category[i]!;
    const a = aggregate?.[i] === true;
    const key = ((p * width + c) << 1) | (a ? 1 : 0);
    let answer = fixed.get(key);
    if (answer === undefined) fixed.set(key, (answer = fixedAnswer(named[p]!, cols.categories[c]!, a) ?? null));
    perItem[i] = named[p]!;
    out[i] = answer ?? undefined;
  }
  return { subjectIds: cols.subjectIds, rules: perItem, out };
}
