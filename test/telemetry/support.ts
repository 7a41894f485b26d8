import { randomUUID } from 'node:crypto';
import { systemContext } from '../../src/internal/context.js';
import type { TestStack } from '../support/engines.js';
import { newUser } from '../support/people.js';

/** The consent module as the server wires it (its decision engine is telemetry's gate): opt in, out, mark a child. */
export interface ConsentKit {
  optIn(subjectId: string, purpose?: string): Promise<void>;
  optOut(subjectId: string, purpose?: string): Promise<void>;
  markChild(subjectId: string): Promise<void>;
  stop(): Promise<void>;
}

export async function consentKit(stack: TestStack): Promise<ConsentKit> {
  const { services } = stack;
  const { consents, subjectStatus } = services.consent;
  const ctx = systemContext('test');
  const purposeOf = (p?: string) => p ?? services.policy.telemetry.purpose;
  const change = async (subjectId: string, purpose: string, status: 'given' | 'withdrawn') =>
    void (await consents.change(services.engine.db, ctx, { subjectId, changes: [{ purpose, status }], source: 'app', collectionMethod: 'test_toggle' }));
  return {
    optIn: (id, p) => change(id, purposeOf(p), 'given'),
    optOut: (id, p) => change(id, purposeOf(p), 'withdrawn'),
    markChild: (id) => subjectStatus.markChild(services.engine.db, ctx, id, true),
    stop: async () => undefined,
  };
}

export const newSubject = (): string => randomUUID();

/** A subject with a key in the vault: device tokens seal their attributes under it. */
export const vaultSubject = (stack: TestStack): Promise<string> => stack.services.vault.createSubject(stack.services.engine.db, systemContext('test'), 'account');

export const usageEvents = (n: number) =>
  Array.from({ length: n }, (_, i) => (i % 2 === 0 ? { event: 'feature_used', fields: { feature: `f${i % 7}`, durationMs: 100 + i } } : { event: 'app_open', fields: { screen: 'home' } }));

/** Signs up an adult through the real accounts API and returns its bearer token and subject id. */
export async function signedInUser(stack: TestStack, email: string): Promise<{ token: string; subjectId: string }> {
  const { token, id } = await newUser(stack, { email });
  return { token, subjectId: id };
}

/** The real broker the MQTT tests talk to (Mosquitto on this machine; `MQTT_URL` elsewhere). */
export const MQTT_URL = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** Polls `check` every 50 ms until it returns something other than undefined; fails after `ms`. */
export async function until<T>(check: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached in time');
}
