import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { AppError, isAppError } from '../../internal/errors/app-error.js';
import type { Engine } from '../../internal/db/engine.js';
import type { TelemetryIngestion } from './ingestion.service.js';
import { GroupCommit } from './group-commit.js';
import { deferAcks } from './mqtt-acks.js';
import { DeviceTokenCache, controlTopic, parseDeviceMessage, type DeviceMessage } from './mqtt-messages.js';
import type { DeviceIdentity } from './device-tokens.js';

/** Handles one crash or activation message; resolves after its data is committed, with a reply for the device's control topic or nothing. */
export type DeviceMessageHandler = (identity: DeviceIdentity, message: DeviceMessage) => Promise<void | Record<string, unknown>>;

export interface BridgeOptions {
  readonly url: string;
  readonly engine: Engine;
  readonly ingestion: TelemetryIngestion;
  /** The process's token cache (`services.telemetry.deviceTokens`): identities are opened once, not per message. */
  readonly tokens: DeviceTokenCache;
  readonly logger: Logger;
  readonly crash?: DeviceMessageHandler | undefined;
  readonly activation?: DeviceMessageHandler | undefined;
  /** Parallel connections sharing the subscription (`$share/…`); messages of all of them share commits. */
  readonly connections?: number;
  /** Stable client ids (persistent sessions): unacknowledged messages are redelivered after a crash. */
  readonly clientPrefix?: string;
  /** Shared-subscription group; bridges of one deployment share one. */
  readonly group?: string;
}

const DEFAULT_CONNECTIONS = 4;
const RECEIVE_MAXIMUM = 1000;
const TOPICS = ['devices/+/events', 'devices/+/crash', 'devices/+/activation'];

/**
 * The MQTT bridge (R-TEL-2, R-TEL-3): QoS 1 subscriptions, and a PUBACK only after the message's data is
 * committed (`deferAcks`: many messages in flight per connection, each acknowledged after its commit). Refusals are acknowledged too (the message was handled) and told to
 * the device on `devices/{id}/control`; a store failure sends no PUBACK, so the broker redelivers.
 */
export class MqttBridge {
  private clients: MqttClient[] = [];
  private readonly tokens: DeviceTokenCache;
  private readonly events: GroupCommit<{ identity: DeviceIdentity; message: DeviceMessage }>;
  private readonly inFlight = new Set<Promise<void>>();
  handled = 0;

  constructor(private readonly o: BridgeOptions) {
    this.tokens = o.tokens;
    // Each connection holds up to RECEIVE_MAXIMUM unacknowledged messages (deferAcks), so what arrives during one
    // commit forms the next batch; two flushes in flight on PostgreSQL keep the connections fed during a commit.
    this.events = new GroupCommit(async (batch) => {
      const outcomes = await o.ingestion.ingestMany(batch.map(({ identity, message }) => ({ source: identity, events: Array.isArray(message.payload.events) ? message.payload.events : [] })));
      outcomes.forEach((outcome, i) => {
        if ('refused' in outcome) this.refuse(batch[i]!.message.deviceRef, 'events', outcome.refused);
      });
    }, 2000, 2, o.engine.kind === 'postgres' ? 2 : 1);
  }

  async start(): Promise<void> {
    const n = this.o.connections ?? DEFAULT_CONNECTIONS;
    const prefix = this.o.clientPrefix ?? `pledge-bridge-${randomBytes(4).toString('hex')}`;
    const shared = TOPICS.map((t) => `$share/${this.o.group ?? 'pledge-bridge'}/${t}`);
    this.clients = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const client = mqtt.connect(this.o.url, {
          clientId: `${prefix}-${i}`,
          // A session that outlives the connection keeps unacknowledged messages for redelivery; Receive Maximum
          // (MQTT 5) lets the broker send that many before the first PUBACK, so commits gather many messages.
          protocolVersion: 5,
          clean: false,
          properties: { sessionExpiryInterval: 86_400, receiveMaximum: RECEIVE_MAXIMUM },
          reconnectPeriod: 1000,
        });
        // Installed before the first packet can arrive: a resumed session's backlog comes right after CONNACK.
        deferAcks(client, (topic, message) => this.track(this.handle(topic, message)), (e) => {
          this.o.logger.warn({ err: e.message }, 'mqtt bridge: message not acknowledged; reconnecting so that the broker redelivers');
          client.stream?.destroy();
        });
        await new Promise<void>((resolve, reject) => {
          client.once('connect', () => resolve());
          client.once('error', reject);
        });
        client.on('error', (e) => this.o.logger.warn({ err: e.message }, 'mqtt bridge: connection error'));
        await client.subscribeAsync(shared, { qos: 1 });
        return client;
      }),
    );
    this.o.logger.info({ connections: n }, 'mqtt bridge subscribed');
  }

  /** Stops after the pending group commit; `forgetSessions` also drops the broker-side sessions (tests, decommissioning). */
  async stop(options: { forgetSessions?: boolean } = {}): Promise<void> {
    await this.events.drain();
    await Promise.allSettled(this.inFlight);
    const ids = this.clients.map((c) => c.options.clientId);
    await Promise.all(this.clients.map((c) => c.endAsync()));
    this.clients = [];
    if (options.forgetSessions) {
      for (const clientId of ids) await (await mqtt.connectAsync(this.o.url, { clientId, clean: true, protocolVersion: 5, reconnectPeriod: 0 })).endAsync();
    }
  }

  private track(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  private async handle(topic: string, payload: Buffer): Promise<void> {
    let message: DeviceMessage | undefined;
    try {
      message = parseDeviceMessage(topic, payload);
      const identity = await this.tokens.identify(message);
      if (message.kind === 'events') await this.events.submit({ identity, message });
      else {
        const handler = message.kind === 'crash' ? this.o.crash : this.o.activation;
        if (!handler) throw new AppError('ROUTE_NOT_FOUND', `No ${message.kind} handler runs in this bridge`);
        const reply = await handler(identity, message);
        // A factory reset revokes the device's token: this bridge stops accepting it at once, not after the cache time.
        if (message.kind === 'activation') this.tokens.forgetDevice(message.deviceRef);
        if (reply) this.tell(message.deviceRef, reply);
      }
      this.handled++;
    } catch (e) {
      // Only refusals are acknowledged; anything else (store down) must be redelivered.
      if (!isAppError(e) || e.status >= 500) throw e;
      if (message) this.refuse(message.deviceRef, message.kind, e);
      this.handled++;
    }
  }

  private refuse(deviceRef: string, kind: string, error: AppError): void {
    this.tell(deviceRef, { type: 'refused', topic: kind, code: error.code, message: error.message });
  }

  private tell(deviceRef: string, body: Record<string, unknown>): void {
    this.clients[0]?.publish(controlTopic(deviceRef), JSON.stringify(body), { qos: 1 }, (e) => {
      if (e) this.o.logger.warn({ type: body.type, code: body.code }, 'mqtt bridge: could not publish on a control topic');
    });
  }
}
