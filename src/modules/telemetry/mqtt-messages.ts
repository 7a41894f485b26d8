import type { Kysely } from 'kysely';
import type { Database } from '../../internal/db/database.js';
import { AppError } from '../../internal/errors/app-error.js';
import { resolveDeviceToken, type DeviceIdentity, type DeviceTokenVault } from './device-tokens.js';

export type DeviceTopicKind = 'events' | 'crash' | 'activation';

export interface DeviceMessage {
  readonly deviceRef: string;
  readonly kind: DeviceTopicKind;
  readonly payload: Record<string, unknown>;
}

const TOPIC = /^devices\/([\w.:-]{1,64})\/(events|crash|activation)$/;

/** Parses `devices/{deviceRef}/{kind}` and its JSON object payload, or throws a refusal. */
export function parseDeviceMessage(topic: string, message: Buffer): DeviceMessage {
  const m = TOPIC.exec(topic);
  if (!m) throw new AppError('VALIDATION_FAILED', 'Unknown topic');
  let payload: unknown;
  try {
    payload = JSON.parse(message.toString('utf8'));
  } catch {
    throw new AppError('BODY_NOT_JSON', 'The payload is not JSON');
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new AppError('VALIDATION_FAILED', 'The payload must be a JSON object');
  return { deviceRef: m[1]!, kind: m[2] as DeviceTopicKind, payload: payload as Record<string, unknown> };
}

export const controlTopic = (deviceRef: string): string => `devices/${deviceRef}/control`;

/**
 * Device tokens over MQTT travel in the payload (`"token": "pdt_…"`): the bridge is one subscriber for the whole
 * fleet and never sees a device's MQTT username. The token must belong to the device named in the topic.
 * HTTP device auth (`Authorization: Device pdt_…`) shares the same cache through `lookup`.
 * Resolved tokens are cached for `ttlMs` (10 s): a token's sealed attributes are opened once per entry, never per
 * message, and a revocation or erasure reaches both paths within that time.
 */
export class DeviceTokenCache {
  // The lookup itself is cached, so the many messages of one device that arrive together wait for one query.
  private readonly cache = new Map<string, { identity: Promise<DeviceIdentity>; until: number }>();
  constructor(
    private readonly db: Kysely<Database>,
    private readonly vault: DeviceTokenVault,
    private readonly ttlMs = 10_000,
  ) {}

  /** Drops the cached tokens of one device (after an event that may have revoked them). */
  forgetDevice(deviceRef: string): void {
    for (const [token, hit] of this.cache) void hit.identity.then((id) => id.deviceRef === deviceRef && this.cache.get(token) === hit && this.cache.delete(token), () => undefined);
  }

  async identify(message: DeviceMessage): Promise<DeviceIdentity> {
    const token = message.payload.token;
    if (typeof token !== 'string') throw new AppError('DEVICE_TOKEN_INVALID');
    const identity = await this.lookup(token);
    if (identity.deviceRef !== message.deviceRef) throw new AppError('DEVICE_TOKEN_INVALID', 'The token does not belong to this device');
    return identity;
  }

  /** Who the token speaks for; refusals (unknown, revoked, owner erased) are AppErrors. */
  async lookup(token: string): Promise<DeviceIdentity> {
    // Malformed tokens are refused before they can take a cache slot.
    if (!token.startsWith('pdt_') || token.length > 100) throw new AppError('DEVICE_TOKEN_INVALID');
    const now = Date.now();
    let hit = this.cache.get(token);
    if (!hit || hit.until < now) {
      hit = { identity: resolveDeviceToken(this.db, this.vault, token), until: now + this.ttlMs };
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(token, hit);
      // A failed lookup (store down) is not remembered; an unknown token is, for the same time as a known one.
      const entry = hit;
      entry.identity.catch((e: unknown) => {
        if (!(e instanceof AppError) && this.cache.get(token) === entry) this.cache.delete(token);
      });
    }
    return hit.identity;
  }
}
