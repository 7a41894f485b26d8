import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { ActorContext } from '../../internal/context.js';
import { AppError } from '../../internal/errors/app-error.js';
import type { DeviceActivation, DeviceView } from '../devices/device.js';
import type { DeviceMessageHandler } from './mqtt-bridge.js';

/** The body of `POST /v1/me/devices`, plus the device token every MQTT message carries. */
const ActivationSchema = Type.Object(
    {
      token: Type.String(),
      event: Type.Union([Type.Literal('activation'), Type.Literal('firmware_update'), Type.Literal('factory_reset')]),
      deviceId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' }),
      imei: Type.String({ minLength: 1, maxLength: 32 }),
      model: Type.String({ minLength: 1, maxLength: 64 }),
      firmware: Type.String({ minLength: 1, maxLength: 64 }),
      location: Type.Optional(Type.Object({ lat: Type.Number({ minimum: -90, maximum: 90 }), lon: Type.Number({ minimum: -180, maximum: 180 }) }, { additionalProperties: false })),
    },
  { additionalProperties: false },
);
const ActivationMessage = TypeCompiler.Compile(ActivationSchema);

/** What the bridge needs of the devices module. */
export interface DeviceActivations {
  activateByDevice(ctx: ActorContext, subjectId: string, deviceRef: string, input: DeviceActivation): Promise<DeviceView & { readonly deviceToken?: string }>;
}

/**
 * `devices/{id}/activation` (R-ACC-4, R-USE-7): the activation, firmware update or factory reset a device reports
 * itself, recorded by the devices module exactly as `POST /v1/me/devices` does (IMEI check, coarsened location,
 * one row per device) for the owner of the device token. Refusals reach the device on `devices/{id}/control`
 * through the bridge. The reply confirms the event; after a factory reset it carries the device's new token (the
 * old one is revoked), on the device's own control topic, where its events already travel with their token.
 */
export function activationHandler(devices: DeviceActivations): DeviceMessageHandler {
  return async (identity, message) => {
    if (!ActivationMessage.Check(message.payload)) throw new AppError('VALIDATION_FAILED', 'The activation message does not match the activation shape');
    const { token: _token, ...input } = message.payload as Static<typeof ActivationSchema>;
    const ctx: ActorContext = { actor: { type: 'device', id: identity.deviceRef }, requestId: crypto.randomUUID() };
    const done = await devices.activateByDevice(ctx, identity.subjectId, identity.deviceRef, input);
    return { type: 'activated', event: input.event, ...(done.deviceToken === undefined ? {} : { deviceToken: done.deviceToken }) };
  };
}
