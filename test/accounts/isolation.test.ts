import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { bearer, newUser } from '../support/people.js';

/** Every subject-scoped route the accounts module owns (checked against the OpenAPI document below). */
const OWN_ROUTES: readonly [string, string][] = [
  ['GET', '/v1/me'],
  ['PATCH', '/v1/me'],
  ['POST', '/v1/me/verify'],
  ['POST', '/v1/me/verify/code'],
  ['DELETE', '/v1/sessions/current'],
];

describe.each(ENGINES)('accounts: no user reaches another user\'s data on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack(kind);
  });
  afterAll(async () => stack.close());

  const rowOf = (id: string) => stack.services.engine.db.selectFrom('accounts').selectAll().where('subject_id', '=', id).executeTakeFirstOrThrow();
  const sessionsOf = (id: string) => stack.services.engine.db.selectFrom('sessions').select(['id', 'verified_at', 'step_up_code']).where('subject_id', '=', id).orderBy('id').execute();

  it('R-ACC-1: the list of owned subject-scoped routes matches the API', async () => {
    const spec = (await stack.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
    const actual = Object.entries(spec.paths)
      .filter(([p]) => p === '/v1/me' || p.startsWith('/v1/me/verify') || p.startsWith('/v1/sessions/'))
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(actual.sort()).toEqual(OWN_ROUTES.map(([m, p]) => `${m} ${p}`).sort());
  });

  it.each(OWN_ROUTES)('R-ACC-1: %s %s without a token answers 401 UNAUTHENTICATED', async (method, url) => {
    const res = await stack.app.inject({ method: method as 'GET', url, ...(method === 'GET' || method === 'DELETE' ? {} : { payload: method === 'PATCH' ? { name: 'Mallory' } : { password: 'whatever 12345' } }) });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('UNAUTHENTICATED');
  });

  it('R-ACC-1: with another user\'s token every owned route acts on the caller only, never on the victim', async () => {
    const victim = await newUser(stack);
    const mallory = await newUser(stack);
    const victimRow = await rowOf(victim.id);
    const victimSessions = await sessionsOf(victim.id);
    const as = bearer(mallory.token);

    const me = await stack.app.inject({ method: 'GET', url: '/v1/me', headers: as });
    expect(me.json().id).toBe(mallory.id);
    expect(me.body).not.toContain(victim.p.name);
    expect(me.body).not.toContain(victim.id);
    // No way to name another subject: ids in the query are ignored, in the body refused.
    expect((await stack.app.inject({ method: 'GET', url: `/v1/me?subjectId=${victim.id}`, headers: as })).json().id).toBe(mallory.id);
    const named = await stack.app.inject({ method: 'PATCH', url: '/v1/me', headers: as, payload: { subjectId: victim.id, name: 'Mallory' } });
    expect(named.json().code).toBe('UNKNOWN_FIELD');

    expect((await stack.app.inject({ method: 'PATCH', url: '/v1/me', headers: as, payload: { name: 'Renamed By Mallory' } })).json().id).toBe(mallory.id);
    // The victim's password does not step up Mallory's session; a code goes to Mallory's own address.
    expect((await stack.app.inject({ method: 'POST', url: '/v1/me/verify', headers: as, payload: { password: victim.p.password } })).json().code).toBe('VERIFICATION_FAILED');
    expect((await stack.app.inject({ method: 'POST', url: '/v1/me/verify/code', headers: as })).statusCode).toBe(202);
    const mail = await stack.services.engine.db.selectFrom('outbox').select('subject_id').execute();
    expect(mail.map((m) => m.subject_id)).toEqual([mallory.id]);
    expect((await stack.app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: as })).statusCode).toBe(204);

    // The victim is untouched: same ciphertexts, same sessions, still signed in, same profile.
    expect(await rowOf(victim.id)).toEqual(victimRow);
    expect(await sessionsOf(victim.id)).toEqual(victimSessions);
    const victimMe = await stack.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(victim.token) });
    expect(victimMe.json()).toMatchObject({ id: victim.id, name: victim.p.name });
    // Mallory's own token is gone after her sign-out, so it reaches nothing any more.
    expect((await stack.app.inject({ method: 'GET', url: '/v1/me', headers: as })).statusCode).toBe(401);
  });
});
