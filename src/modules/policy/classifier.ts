import { AppError, errors } from '../../internal/errors/app-error.js';
import type { CompiledPolicy } from './policy.js';

export type Classification = 'personal' | 'non_personal';

/**
 * R-CLS-1: the category a stored field holds, or UNDECLARED_FIELD. Every write of a field goes through here,
 * so a field the policy does not name cannot be stored.
 */
export function categoryOfField(policy: CompiledPolicy, table: string, field: string): string {
  const category = policy.fields.get(`${table}.${field}`);
  if (category === undefined) throw errors.undeclaredField(`${table}.${field}`);
  return category;
}

/**
 * R-CLS-2: a record is personal when any of its categories is personal, or when it joins any data
 * (even non-personal language, ZIP or time zone) to a subject.
 *
 * @example classifyRecord(policy, ['user.demographic.language'], { linkedToSubject: true }) // 'personal'
 */
export function classifyRecord(policy: CompiledPolicy, categories: readonly string[], options: { readonly linkedToSubject: boolean }): Classification {
  let personal = options.linkedToSubject && categories.length > 0;
  for (const key of categories) {
    const category = policy.categories.get(key);
    if (category === undefined) throw new AppError('UNKNOWN_CATEGORY', `The data category ${key} is not declared in the policy`, { category: key });
    personal ||= category.personal;
  }
  return personal ? 'personal' : 'non_personal';
}
