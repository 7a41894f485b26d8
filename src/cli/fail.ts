import { ConfigError } from '../internal/config/config.js';
import { PolicyInvalidError, formatProblem } from '../modules/policy/policy-problems.js';

/** Prints a start-up failure for a person (which variable, which policy path) and exits non-zero. */
export function failAndExit(e: unknown): never {
  if (e instanceof ConfigError) {
    process.stderr.write(`pledge: bad configuration: ${e.message}\n`);
  } else if (e instanceof PolicyInvalidError) {
    process.stderr.write(`pledge: the policy ${e.file} is not valid:\n${e.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`);
  } else {
    process.stderr.write(`pledge: ${e instanceof Error ? e.message : String(e)}\n`);
  }
  process.exit(1);
}
