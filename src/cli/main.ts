import { Command } from 'commander';
import { registerCoreCommands } from './core.commands.js';

const program = new Command();
program.name('pledge').description('Pledge: the Smartmi privacy policy, enforced by software').version('0.1.0');
registerCoreCommands(program);
await program.parseAsync(process.argv);
