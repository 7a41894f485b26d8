import { readablePath } from './policy-path.js';

/** One thing wrong with a policy file, located by the path a person reads in the YAML. */
export interface PolicyProblem {
  readonly path: string;
  readonly message: string;
}

export const problem = (segments: readonly (string | number)[], message: string): PolicyProblem => ({
  path: readablePath(segments),
  message,
});

export const formatProblem = (p: PolicyProblem): string => `${p.path}: ${p.message}`;

export class PolicyInvalidError extends Error {
  constructor(readonly file: string, readonly problems: readonly PolicyProblem[]) {
    super(`The policy ${file} has ${problems.length} problem(s):\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'PolicyInvalidError';
  }
}
