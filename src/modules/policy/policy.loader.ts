import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { Ajv } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { PolicySchema, type PolicyDocument } from './policy.schema.js';
import { checkReferences } from './policy.references.js';
import { compilePolicy } from './policy.compiler.js';
import { pointerSegments } from './policy-path.js';
import { PolicyInvalidError, problem, type PolicyProblem } from './policy-problems.js';
import type { CompiledPolicy } from './policy.js';

const validateSchema = new Ajv({ allErrors: true, strict: false }).compile(PolicySchema);

export type PolicyCheck = { readonly ok: true; readonly policy: CompiledPolicy } | { readonly ok: false; readonly problems: readonly PolicyProblem[] };

/** Parses, validates and compiles policy text; collects every problem rather than stopping at the first. */
export function checkPolicyText(text: string): PolicyCheck {
  const lines = new LineCounter();
  const yamlDoc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter: lines });
  if (yamlDoc.errors.length > 0) {
    return {
      ok: false,
      problems: yamlDoc.errors.map((e) => {
        const where = `line ${lines.linePos(e.pos[0]).line}`;
        const key = text.slice(e.pos[0], e.pos[1]).split(':')[0]?.trim();
        return { path: where, message: e.code === 'DUPLICATE_KEY' ? `duplicate key ${key}` : e.message.split('\n')[0] ?? e.code };
      }),
    };
  }
  const doc: unknown = yamlDoc.toJS();
  if (!validateSchema(doc)) {
    const problems = (validateSchema.errors ?? []).map((e) => {
      const segs = pointerSegments(e.instancePath);
      if (e.keyword === 'additionalProperties') return problem([...segs, String((e.params as { additionalProperty: string }).additionalProperty)], 'is not a known setting');
      if (e.keyword === 'required') return problem([...segs, String((e.params as { missingProperty: string }).missingProperty)], 'is required');
      return problem(segs, e.message ?? e.keyword);
    });
    return { ok: false, problems: dedupe(problems) };
  }
  const checked = doc as PolicyDocument;
  const problems = checkReferences(checked);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, policy: compilePolicy(checked, createHash('sha256').update(text).digest('hex')) };
}

function dedupe(problems: PolicyProblem[]): PolicyProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path}\u0000${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Loads a policy file; throws PolicyInvalidError listing every problem. */
export function loadPolicyFile(file: string): CompiledPolicy {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new PolicyInvalidError(file, [{ path: '(file)', message: `cannot read the policy file (${(e as NodeJS.ErrnoException).code ?? 'error'})` }]);
  }
  const result = checkPolicyText(text);
  if (!result.ok) throw new PolicyInvalidError(file, result.problems);
  return result.policy;
}
