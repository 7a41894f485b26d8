import type { Command } from 'commander';
import { boot } from '../start/boot.js';
import { stopServices } from '../start/services.js';
import { createBridge } from '../modules/telemetry/telemetry.jobs.js';
import cliProgress from 'cli-progress';
import { failAndExit } from './fail.js';

export function registerTelemetryCommands(program: Command): void {
  program
    .command('mqtt-bridge')
    .description('run the MQTT bridge alone: devices/+/events, devices/+/crash, devices/+/activation (QoS 1, acknowledged after commit)')
    .option('--connections <n>', 'parallel broker connections sharing the subscription (each holds up to 1,000 unacknowledged messages)', '4')
    .action(async (opts: { connections: string }) => {
      const services = await boot().catch(failAndExit);
      const url = services.config.mqttUrl;
      if (url === undefined) failAndExit(new Error('MQTT_URL is not set (e.g. mqtt://127.0.0.1:1883)'));
      const bridge = createBridge(services, url, { connections: Math.max(1, Number(opts.connections) || 4) });
      await bridge.start().catch(failAndExit);
      console.log(`mqtt bridge running against ${new URL(url).host}; Ctrl-C stops it`);
      const stop = async (): Promise<void> => {
        await bridge.stop();
        await stopServices(services);
        await services.engine.close();
        console.log(`mqtt bridge stopped after ${bridge.handled} messages`);
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });

  const retention = program.command('retention').description('the retention sweeper');
  retention
    .command('run')
    .description('apply the policy\'s retention to every store now and print what was removed')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { json?: boolean }) => {
      const services = await boot().catch(failAndExit);
      const names = services.retention.names();
      const bar = new cliProgress.SingleBar({ format: 'retention [{bar}] {value}/{total} {step}', stream: process.stderr, noTTYOutput: false }, cliProgress.Presets.shades_classic);
      if (!opts.json) bar.start(names.length, 0, { step: '' });
      const report = await services.retention.run({ onStep: (step, done) => !opts.json && bar.update(done, { step }) });
      if (!opts.json) bar.stop();
      await stopServices(services);
      await services.engine.close();
      if (opts.json) console.log(JSON.stringify(report, null, 2));
      else {
        for (const s of report.steps) console.log(`${s.name.padEnd(32)} ${s.ok ? `removed ${s.removed}` : `FAILED (${s.error ?? 'error'})`}  ${s.ms.toFixed(0)} ms`);
        console.log(`${report.removed} removed in ${report.steps.length} steps, ${report.failed} failed`);
      }
      process.exit(report.failed > 0 ? 2 : 0);
    });
}
