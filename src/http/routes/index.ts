import type { AppInstance } from '../app-instance.js';
import { healthRoutes } from './health.routes.js';
import { policyRoutes } from './policy.routes.js';
import { classifyRoutes } from './classify.routes.js';

/** Every route module, registered in one place so the API surface is visible at a glance. */
export async function registerRoutes(app: AppInstance): Promise<void> {
  await app.register(healthRoutes);
  await app.register(policyRoutes);
  await app.register(classifyRoutes);
}
