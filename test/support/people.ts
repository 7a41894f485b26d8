import { randomBytes } from 'node:crypto';
import type { TestStack } from './engines.js';
import { systemContext } from '../../src/internal/context.js';

/** A person with distinctive values, unique per call (so tests can search bytes for them). */
export function person(overrides: Record<string, unknown> = {}) {
  const tag = randomBytes(4).toString('hex');
  const digits = String(parseInt(tag, 16) % 10_000_000).padStart(7, '0');
  return {
    name: `Zelda Quixote-${tag}`,
    email: `Zelda.${tag}@Example.ORG`,
    phone: `+4930${digits}`,
    postalAddress: { line1: `Wunderweg ${tag} 7`, city: 'Berlin', postalCode: '10115', country: 'DE' },
    birthDate: '1984-07-19',
    region: 'DE',
    language: 'de-DE',
    timeZone: 'Europe/Berlin',
    password: `correct horse ${tag}`,
    ...overrides,
  };
}

export type Person = ReturnType<typeof person>;

export async function signUp(stack: TestStack, p: Person): Promise<string> {
  const res = await stack.app.inject({ method: 'POST', url: '/v1/accounts', payload: p });
  if (res.statusCode !== 201) throw new Error(`sign-up failed: ${res.statusCode} ${res.body}`);
  return (res.json() as { id: string }).id;
}

export async function signIn(stack: TestStack, login: string, password: string): Promise<string> {
  const res = await stack.app.inject({ method: 'POST', url: '/v1/sessions', payload: { login, password } });
  if (res.statusCode !== 201) throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`);
  return (res.json() as { token: string }).token;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Signs a new person up and in through the accounts API: every test folder's one way to get a user. */
export async function newUser(stack: TestStack, overrides: Record<string, unknown> = {}) {
  const p = person(overrides);
  const id = await signUp(stack, p);
  const token = await signIn(stack, p.email, p.password);
  return { p, id, token, email: p.email, auth: bearer(token) };
}

/** A new user whose session has just passed the step-up (POST /v1/me/verify), as the rights routes require. */
export async function verifiedUser(stack: TestStack, overrides: Record<string, unknown> = {}) {
  const user = await newUser(stack, overrides);
  const res = await stack.app.inject({ method: 'POST', url: '/v1/me/verify', headers: user.auth, payload: { password: user.p.password } });
  if (res.statusCode !== 200) throw new Error(`step-up failed: ${res.statusCode} ${res.body}`);
  return user;
}

/** An `admin`-scope API key's secret: how staff of the privacy office (or shipping) reach the admin routes. */
export async function staffKey(stack: TestStack, name: string): Promise<string> {
  return (await stack.services.apiKeys.create(stack.services.engine.db, systemContext('test'), name, 'admin')).secret;
}
