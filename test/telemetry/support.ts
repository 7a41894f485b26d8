import { randomUUID } from 'node:crypto';
import { systemContext } from '../../src/internal/context.js';
import type { TestStack } from '../support/engines.js';

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

export const usageEvents = (n: number) =>
  Array.from({ length: n }, (_, i) => (i % 2 === 0 ? { event: 'feature_used', fields: { feature: `f${i % 7}`, durationMs: 100 + i } } : { event: 'app_open', fields: { screen: 'home' } }));

/** Signs up an adult through the real accounts API and returns its bearer token and subject id. */
export async function signedInUser(stack: TestStack, email: string): Promise<{ token: string; subjectId: string }> {
  const password = 'correct horse battery staple';
  const signUp = await stack.app.inject({
    method: 'POST',
    url: '/v1/accounts',
    payload: { name: 'Ana Example', email, phone: '+4930901820', postalAddress: { line1: 'Street 1', city: 'Berlin', country: 'DE' }, birthDate: '1990-01-01', region: 'DE', language: 'de', timeZone: 'Europe/Berlin', password },
  });
  if (signUp.statusCode !== 201) throw new Error(`sign-up failed: ${signUp.body}`);
  const session = await stack.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login: email, password } });
  if (session.statusCode !== 201) throw new Error(`sign-in failed: ${session.body}`);
  return { token: session.json().token, subjectId: signUp.json().id };
}
