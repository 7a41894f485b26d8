import { Type, type Static } from '@sinclair/typebox';
import type { AppInstance } from '../app-instance.js';
import type { DeviceView } from '../../modules/devices/device.js';

const Precision = Type.Union([Type.Literal('precise'), Type.Literal('city'), Type.Literal('region'), Type.Literal('off')]);
const Point = Type.Object({ lat: Type.Number({ minimum: -90, maximum: 90 }), lon: Type.Number({ minimum: -180, maximum: 180 }) }, { additionalProperties: false });

const ActivationBody = Type.Object(
  {
    event: Type.Union([Type.Literal('activation'), Type.Literal('firmware_update'), Type.Literal('factory_reset')]),
    deviceId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' }),
    imei: Type.String({ minLength: 1, maxLength: 32 }),
    model: Type.String({ minLength: 1, maxLength: 64 }),
    firmware: Type.String({ minLength: 1, maxLength: 64 }),
    location: Type.Optional(Point),
  },
  { additionalProperties: false },
);

const DeviceSchema = Type.Object({
  id: Type.String(),
  deviceId: Type.String(),
  imei: Type.String(),
  model: Type.String(),
  firmware: Type.String(),
  locationPrecision: Type.Union([Precision, Type.Null()], { description: "The device's own setting; null follows the account" }),
  effectivePrecision: Precision,
  location: Type.Union([Type.Object({ lat: Type.Number(), lon: Type.Number(), precision: Precision }), Type.Null()], { description: 'The latest location only, already coarsened' }),
  lastEvent: Type.String(),
  activatedAt: Type.String(),
  updatedAt: Type.String(),
});
const ActivatedSchema = Type.Intersect([DeviceSchema, Type.Object({ deviceToken: Type.Optional(Type.String({ description: 'Shown once: the credential the device sends telemetry with' })) })]);

function present(d: DeviceView): Static<typeof DeviceSchema> {
  return {
    id: d.id,
    deviceId: d.deviceId,
    imei: d.imei,
    model: d.model,
    firmware: d.firmware,
    locationPrecision: d.locationPrecision,
    effectivePrecision: d.effectivePrecision,
    location: d.location ? { lat: d.location.lat, lon: d.location.lon, precision: d.location.precision } : null,
    lastEvent: d.lastEvent,
    activatedAt: d.activatedAt,
    updatedAt: d.updatedAt,
  };
}

/** Devices of the signed-in user (R-ACC-4, R-USE-7, R-CHO-3). No route returns a location trail: there is none. */
export async function devicesRoutes(app: AppInstance): Promise<void> {
  const tags = ['devices'];
  const security = [{ bearer: [] }];
  app.post(
    '/v1/me/devices',
    { preHandler: app.authenticateUser, schema: { tags, security, summary: 'Record an activation, firmware update or factory reset of a device', body: ActivationBody, response: { 200: ActivatedSchema } } },
    async (request) => {
      const { deviceToken, ...device } = await app.services.devices.activate(request.ctx, request.body);
      return { ...present(device), ...(deviceToken === undefined ? {} : { deviceToken }) };
    },
  );
  app.get(
    '/v1/me/devices',
    { preHandler: app.authenticateUser, schema: { tags, security, summary: 'Your devices, each with its latest coarsened location', response: { 200: Type.Object({ devices: Type.Array(DeviceSchema) }) } } },
    async (request) => ({ devices: (await app.services.devices.list(request.ctx)).map(present) }),
  );
  app.patch(
    '/v1/me/devices/:id',
    {
      preHandler: app.authenticateUser,
      schema: {
        tags,
        security,
        summary: 'Change the location precision of one device; the stored location is coarsened at once (R-CHO-3)',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        body: Type.Object({ locationPrecision: Type.Union([Precision, Type.Null()]) }, { additionalProperties: false }),
        response: { 200: DeviceSchema },
      },
    },
    async (request) => present(await app.services.devices.setPrecision(request.ctx, request.params.id, request.body.locationPrecision)),
  );
}
