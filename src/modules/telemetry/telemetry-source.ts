import type { Actor } from '../../internal/context.js';
import { errors } from '../../internal/errors/app-error.js';
import type { DeviceIdentity } from './device-tokens.js';
import type { DeviceTokenCache } from './mqtt-messages.js';
import type { TelemetrySource } from './ingestion.service.js';

export interface SourceHints {
  /** `Authorization: Device pdt_…` or `X-Device-Token: pdt_…`. */
  readonly authorization?: string | undefined;
  readonly deviceToken?: string | undefined;
  /** App sessions describe themselves coarsely: platform and app version only. */
  readonly appPlatform?: string | undefined;
  readonly appVersion?: string | undefined;
}

export interface ResolvedSource {
  readonly source: TelemetrySource;
  readonly device: DeviceIdentity | undefined;
}

const COARSE = /^[\w.+-]{1,40}$/;
const coarse = (v: string | undefined): string | null => (v !== undefined && COARSE.test(v) ? v : null);

export function deviceTokenOf(hints: SourceHints): string | undefined {
  const m = hints.authorization ? /^Device\s+(\S+)$/i.exec(hints.authorization) : null;
  return m?.[1] ?? hints.deviceToken;
}

/** A device token wins; otherwise a signed-in user (app session); otherwise 401. */
export async function resolveSource(tokens: DeviceTokenCache, actor: Actor, hints: SourceHints): Promise<ResolvedSource> {
  const token = deviceTokenOf(hints);
  if (token !== undefined) {
    const device = await tokens.lookup(token);
    return { device, source: { subjectId: device.subjectId, model: device.model, firmware: device.firmware, region: device.region } };
  }
  if (actor.type === 'user') {
    const platform = coarse(hints.appPlatform);
    return { device: undefined, source: { subjectId: actor.id, model: platform ? `app-${platform}` : 'app', firmware: coarse(hints.appVersion), region: null } };
  }
  throw errors.unauthenticated('Send a device token or sign in');
}
