import type { AppInstance } from '../app-instance.js';
import { healthRoutes } from './health.routes.js';
import { policyRoutes } from './policy.routes.js';
import { classifyRoutes } from './classify.routes.js';
import { webRoutes } from './web.routes.js';
import { telemetryRoutes } from './telemetry.routes.js';
import { insightsRoutes } from './insights.routes.js';
import { pixelRoutes } from './pixel.routes.js';
import { registerAccessLog } from '../plugins/access-log.js';
import { consentRoutes } from './consent.routes.js';
import { decisionsRoutes } from './decisions.routes.js';
import { cookieConsentRoutes } from './cookie-consent.routes.js';
import { gpcSignalHook, wellKnownRoutes } from './wellknown.routes.js';
import { registerAuth } from '../plugins/auth.js';
import { accountsRoutes } from './accounts.routes.js';
import { sessionsRoutes } from './sessions.routes.js';
import { meRoutes } from './me.routes.js';
import { requestsRoutes } from './requests.routes.js';
import { dataRoutes } from './data.routes.js';
import { adminRequestsRoutes } from './admin-requests.routes.js';
import { ordersRoutes } from './orders.routes.js';
import { adminOrdersRoutes } from './admin-orders.routes.js';
import { devicesRoutes } from './devices.routes.js';
import { contactsRoutes } from './contacts.routes.js';
import { sealedRoutes } from './sealed.routes.js';

/** Every route module, registered in one place so the API surface is visible at a glance. */
export async function registerRoutes(app: AppInstance): Promise<void> {
  // Before everything: names the user behind a bearer token (request.session, ctx.actor) for every later hook and route.
  registerAuth(app, app.services.accounts.sessions);
  // First, on the root instance: the access log (R-TEL-4) sees every route registered after it.
  registerAccessLog(app);
  // First, unencapsulated: Sec-GPC on any signed-in request is recorded (R-TEL-5).
  await app.register(gpcSignalHook);
  await app.register(healthRoutes);
  await app.register(policyRoutes);
  await app.register(classifyRoutes);
  await app.register(telemetryRoutes);
  await app.register(insightsRoutes);
  await app.register(pixelRoutes);
  await app.register(consentRoutes);
  await app.register(decisionsRoutes);
  await app.register(cookieConsentRoutes);
  await app.register(wellKnownRoutes);
  await app.register(accountsRoutes);
  await app.register(sessionsRoutes);
  await app.register(meRoutes);
  await app.register(requestsRoutes);
  await app.register(dataRoutes);
  await app.register(adminRequestsRoutes);
  await app.register(ordersRoutes);
  await app.register(adminOrdersRoutes);
  await app.register(devicesRoutes);
  await app.register(contactsRoutes);
  await app.register(sealedRoutes);
  // Last: its GET /* fallback serves the Privacy Center for paths no API route claims.
  await app.register(webRoutes);
}
