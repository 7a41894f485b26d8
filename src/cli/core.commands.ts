import path from 'node:path';
import fs from 'node:fs';
import type { Command } from 'commander';
import { boot } from '../start/boot.js';
import { serve } from '../start/server.js';
import { parseConfig } from '../internal/config/config.js';
import { checkPolicyText } from '../modules/policy/policy.loader.js';
import { buildPolicyView } from '../modules/policy/policy.view.js';
import { formatProblem } from '../modules/policy/policy-problems.js';
import { failAndExit } from './fail.js';

export function registerCoreCommands(program: Command): void {
  program
    .command('serve')
    .description('start the HTTP service')
    .action(async () => {
      const services = await boot().catch(failAndExit);
      await serve(services).catch(failAndExit);
    });

  const db = program.command('db').description('the store');
  db.command('migrate')
    .description('bring the schema to the latest version')
    .action(async () => {
      const services = await boot().catch(failAndExit);
      console.log(`schema is up to date on ${services.engine.kind}`);
      await services.engine.close();
    });

  const policy = program.command('policy').description('the policy file');
  policy
    .command('check [file]')
    .description('validate a policy file and print every problem with its path')
    .action((file: string | undefined) => {
      const target = path.resolve(file ?? parseConfigOrExit().policyFile);
      let text: string;
      try {
        text = fs.readFileSync(target, 'utf8');
      } catch {
        console.error(`${target}: cannot read the file`);
        process.exit(1);
      }
      const result = checkPolicyText(text);
      if (!result.ok) {
        for (const p of result.problems) console.error(formatProblem(p));
        console.error(`${result.problems.length} problem(s) in ${target}`);
        process.exit(1);
      }
      console.log(`${target}: valid (version ${result.policy.version}, sha256 ${result.policy.hash})`);
      console.log(`${result.policy.categories.size} categories, ${result.policy.purposes.size} purposes, ${result.policy.consentPurposes.length} need consent`);
    });
  policy
    .command('show')
    .description('print what we collect and why, from the policy in force')
    .option('--json', 'as JSON')
    .action((opts: { json?: boolean }) => {
      const text = fs.readFileSync(parseConfigOrExit().policyFile, 'utf8');
      const result = checkPolicyText(text);
      if (!result.ok) failAndExit(new Error(result.problems.map(formatProblem).join('\n')));
      const view = buildPolicyView(result.policy);
      if (opts.json) {
        console.log(JSON.stringify(view, null, 2));
        return;
      }
      console.log(`${view.name} — version ${view.version}`);
      for (const c of view.categories) {
        console.log(`\n${c.key} (${c.personal ? 'personal' : 'non-personal'}): ${c.description}; kept ${c.retention}`);
        for (const p of c.purposes) console.log(`  - ${p.title} [${p.legalBasis}${p.aggregatesOnly ? ', statistics only' : ''}]`);
        if (c.recipientTypes.length) console.log(`  may be shared with: ${c.recipientTypes.join(', ')}`);
      }
    });

  const audit = program.command('audit').description('the audit log');
  audit
    .command('verify')
    .description('walk the hash chain and report the first broken link')
    .action(async () => {
      const services = await boot().catch(failAndExit);
      const started = performance.now();
      const result = await services.audit.verify(services.engine.db);
      const seconds = (performance.now() - started) / 1000;
      await services.engine.close();
      if (!result.ok) {
        console.error(`audit chain BROKEN after ${result.entries} good entries: ${result.message}`);
        process.exit(2);
      }
      console.log(`audit chain intact: ${result.entries} entries verified in ${seconds.toFixed(2)} s`);
    });
}

function parseConfigOrExit() {
  try {
    return parseConfig();
  } catch (e) {
    return failAndExit(e);
  }
}
