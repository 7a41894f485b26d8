import type { IPublishPacket, MqttClient } from 'mqtt';

/**
 * Given to mqtt.js's `handleMessage` callback: mqtt.js then goes on to the connection's next packet without
 * sending a PUBACK (its QoS 1 path returns early on an error). The PUBACK is sent by `deferAcks` after commit.
 */
const ACK_DEFERRED = new Error('PUBACK deferred until the message is committed');

interface PendingAck {
  readonly messageId: number;
  committed: boolean;
}

interface PacketSender {
  _sendPacket(packet: { cmd: 'puback'; messageId: number; reasonCode: number }, cb?: () => void, cbStorePut?: () => void, noStore?: boolean): void;
}

/**
 * Lets one connection carry many unacknowledged QoS 1 messages at once. mqtt.js handles a connection's packets one
 * at a time and reads the next only after the current one's PUBACK is written, so with acknowledge-after-commit a
 * connection would hold one message per commit. Here every message is handed to `handle` as it arrives; its PUBACK
 * is written once `handle` resolves (after the commit), in the order the messages arrived (MQTT 4.6). When `handle`
 * rejects, no PUBACK is sent for it nor for anything behind it, and `onFailure` drops the connection: the broker
 * redelivers every unacknowledged message of the persistent session on reconnect. PUBACKs owed to a connection that
 * has gone are never sent on its successor, where the same packet ids name other messages.
 */
// Relies on mqtt.js's QoS 1 path (handlers/publish.js: a `handleMessage` error skips the PUBACK) and on its
// `_sendPacket`; package.json pins mqtt to the exact version this was read against (5.16.0), and the kill -9 and
// bridge tests fail if either changes, so an upgrade is a deliberate step.
export function deferAcks(client: MqttClient, handle: (topic: string, payload: Buffer) => Promise<void>, onFailure: (error: Error) => void): void {
  let stream = client.stream;
  let queue: PendingAck[] = [];
  const flush = (q: PendingAck[], s: typeof stream): void => {
    while (q.length > 0 && q[0]!.committed) {
      const { messageId } = q.shift()!;
      if (client.connected && client.stream === s) (client as unknown as PacketSender)._sendPacket({ cmd: 'puback', messageId, reasonCode: 0 }, undefined, undefined, true);
    }
  };
  client.handleMessage = (packet: IPublishPacket, callback: (error?: Error) => void) => {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    if (packet.qos !== 1 || packet.messageId === undefined) {
      // QoS 0 carries no acknowledgement (and QoS 2 is never granted by our subscriptions).
      handle(packet.topic, payload).catch(onFailure);
      callback();
      return;
    }
    if (client.stream !== stream) {
      stream = client.stream;
      queue = [];
    }
    const q = queue;
    const s = stream;
    const entry: PendingAck = { messageId: packet.messageId, committed: false };
    q.push(entry);
    handle(packet.topic, payload).then(
      () => {
        entry.committed = true;
        flush(q, s);
      },
      (e: unknown) => {
        // Nothing behind a failed message may be acknowledged on this connection any more: it is being dropped.
        q.length = 0;
        onFailure(e instanceof Error ? e : new Error(String(e)));
      },
    );
    callback(ACK_DEFERRED);
  };
}
