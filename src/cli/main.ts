import { Command } from 'commander';
import { registerCoreCommands } from './core.commands.js';
import { registerApiKeyCommands } from './apikey.commands.js';
import { registerTelemetryCommands } from './telemetry.commands.js';
import { registerKeysCommands } from './keys.commands.js';
import { registerRightsCommands } from './rights.commands.js';
import { registerImportCommands } from './import.commands.js';

const program = new Command();
program.name('pledge').description('Pledge: the Smartmi privacy policy, enforced by software').version('0.1.0');
registerCoreCommands(program);
registerApiKeyCommands(program);
registerTelemetryCommands(program);
registerKeysCommands(program);
registerRightsCommands(program);
registerImportCommands(program);
await program.parseAsync(process.argv);
