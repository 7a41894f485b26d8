import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';

export const SEED_POLICY_FILE = path.resolve(import.meta.dirname, '../../policy/smartmi.policy.yaml');
export const seedPolicyText = (): string => fs.readFileSync(SEED_POLICY_FILE, 'utf8');

/** The seed policy with one change applied, as YAML text. */
export function mutatedPolicy(change: (doc: Record<string, any>) => void): string {
  const doc = parse(seedPolicyText()) as Record<string, any>;
  change(doc);
  return stringify(doc);
}

/** The seed policy with one change, written to a fresh temporary file (for `PLEDGE_POLICY`); returns its path. */
export function policyFile(change: (doc: Record<string, any>) => void): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pledge-policy-')), 'policy.yaml');
  fs.writeFileSync(file, mutatedPolicy(change));
  return file;
}
