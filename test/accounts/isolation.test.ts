import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { InjectOptions } from 'light-my-request';
import { sql } from 'kysely';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { signIn } from '../support/people.js';
import { ATTACKS, holder, requestOf, viewOf, type Call, type Holder, type RouteKey, type World } from './isolation.attacks.js';

interface SeenRoute {
  readonly methods: readonly string[];
  readonly url: string;
  readonly security: readonly Record<string, unknown>[];
  readonly preHandlers: readonly unknown[];
}

/**
 * The route list comes from the app itself, not from a list kept by hand: Fastify's factory is wrapped so that an
 * `onRoute` hook, added before `buildApp` registers anything, sees every route — those hidden from the OpenAPI
 * document too — with its declared security and pre-handlers. Nothing else about the app changes.
 */
const seen = vi.hoisted(() => new Map<object, SeenRoute[]>());
vi.mock('fastify', async (importOriginal) => {
  const real = await importOriginal<typeof import('fastify')>();
  const factory = real.default as unknown as (options?: unknown) => FastifyInstance;
  const wrapped = (options?: unknown) => {
    const app = factory(options);
    const routes: SeenRoute[] = [];
    seen.set(app, routes);
    app.addHook('onRoute', (r) => {
      const security = (r.schema as { security?: Record<string, unknown>[] } | undefined)?.security ?? [];
      routes.push({ methods: [r.method].flat(), url: r.url, security, preHandlers: [r.preHandler ?? []].flat() });
    });
    return app;
  };
  return { ...real, default: wrapped, fastify: wrapped };
});

type Auth = 'bearer' | 'apiKey' | 'none';

/**
 * The only routes no attack calls, each with why another user's token cannot reach anyone's data there. Only routes
 * that require no authentication may be listed (checked below), so a route that needs a user is always attacked.
 */
const PUBLIC: Readonly<Record<string, string>> = {
  'GET /health': 'liveness: the same answer for everyone',
  'GET /v1/policy': 'the published privacy policy',
  'POST /v1/classify': 'classifies the categories in the body; reads and stores nothing',
  'GET /.well-known/jwks.json': 'the public keys that verify consent receipts',
  'GET /.well-known/gpc.json': 'the Global Privacy Control declaration',
  'GET /v1/px/:file': 'the pixel token in the path, not a session, names the message; the same GIF for everyone (test/telemetry/pixel.test.ts)',
  'POST /v1/accounts': 'sign-up makes a new subject and names no existing one',
  'POST /v1/sessions': 'sign-in: the password, not a session, names the subject (throttled: test/accounts/sessions.test.ts)',
  'POST /v1/contacts/erasure': 'the same answer whether the address is known; only the code mailed to that address acts (test/collection/contacts.test.ts)',
  'POST /v1/contacts/erasure/confirm': 'the code mailed to the address, not a session, names the contacts erased',
  'GET /openapi.json': 'the API description',
  'GET /*': 'the Privacy Center\'s static files (never an API path)',
};
/** Swagger UI's own routes (`/docs`, `/docs/json`, `/docs/static/*`, …): the API description and its page. */
const PUBLIC_PREFIX = '/docs';

/** Every route of the app with its auth requirement; a HEAD route Fastify adds beside a GET runs that GET's handler. */
function routeTable(app: FastifyInstance): Map<string, Auth> {
  const routes = seen.get(app);
  if (!routes) throw new Error('the app was not built through the wrapped Fastify factory');
  const gets = new Set(routes.filter((r) => r.methods.includes('GET')).map((r) => r.url));
  const table = new Map<string, Auth>();
  for (const r of routes) {
    const schemes = r.security.flatMap((s) => Object.keys(s));
    const auth: Auth = schemes.includes('bearer') || r.preHandlers.includes(app.authenticateUser) ? 'bearer' : schemes.includes('apiKey') ? 'apiKey' : 'none';
    for (const m of r.methods) if (!(m === 'HEAD' && gets.has(r.url))) table.set(`${m} ${r.url}`, auth);
  }
  return table;
}

const isPublic = (key: string) => key in PUBLIC || key.split(' ')[1]!.startsWith(PUBLIC_PREFIX);
const subjectScoped = (key: string, auth: Auth) => auth === 'bearer' || key.split(' ')[1]!.startsWith('/v1/me');

/** Every row of the data store that names the subject, as text (Buffers included), sorted: what "unchanged" compares. */
async function rowsNaming(stack: TestStack, subjectId: string): Promise<string[]> {
  const db = stack.services.engine.db;
  // Writers that run behind the requests (the access log's batches, mail delivery) settle first.
  await stack.app.accessLog.flush();
  await stack.services.outbox.deliverDue();
  const tables =
    stack.kind === 'sqlite'
      ? await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db)
      : await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db);
  const out: string[] = [];
  for (const { name } of tables.rows) {
    for (const row of (await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db)).rows) {
      const text = JSON.stringify(row);
      if (text.includes(subjectId)) out.push(`${name} ${text}`);
    }
  }
  return out.sort();
}

describe.each(ENGINES)('no user reaches another user\'s data, on any route, on %s', (kind) => {
  let stack: TestStack;
  let world: World;
  let victimView: Record<string, unknown>;
  let victimRows: string[];
  /** Every request an attack made, by route, with the code it was answered with: replayed without a token below. */
  const calls = new Map<RouteKey, { request: InjectOptions; code: string | undefined }[]>();

  /** How often the access log saw the route answered for this subject: the server's own record of the call. */
  const reached = async (key: RouteKey, subjectId: string): Promise<number> => {
    await stack.app.accessLog.flush();
    const [method, route] = key.split(' ') as [string, string];
    const r = await stack.services.engine.db
      .selectFrom('access_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('subject_id', '=', subjectId)
      .where('method', '=', method)
      .where('route', '=', route)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  };

  beforeAll(async () => {
    stack = await createStack(kind);
    const a: Holder = await holder(stack, 'a');
    const b: Holder = await holder(stack, 'b');
    const asB = async (route: RouteKey, call: Call = {}) => {
      const request = requestOf(route, call, call.token ?? b.token);
      const res = await stack.app.inject(request);
      const code = /json/.test(String(res.headers['content-type'])) ? (res.json() as { code?: string }).code : undefined;
      calls.set(route, [...(calls.get(route) ?? []), { request, code }]);
      return res;
    };
    world = { stack, a, b, asB };
    // What the attacks must not change: the victim's own view, and every row that names her.
    victimView = await viewOf(stack, a);
    victimRows = await rowsNaming(stack, a.id);
  });
  afterAll(async () => stack?.close());

  it('R-ACC-1, R-SEC-4: every route the app registers is attacked below with another user\'s token, or is public for a stated reason', () => {
    const table = routeTable(stack.app);
    expect(table.size).toBeGreaterThan(40);
    const keys = [...table.keys()];
    // Under /v1/me is a person's own data: every such route must require a signed-in user.
    for (const key of keys.filter((k) => k.split(' ')[1]!.startsWith('/v1/me'))) expect(table.get(key), key).toBe('bearer');
    // The public list names real routes that ask for no credentials at all, so it can never hide a subject-scoped one.
    for (const key of Object.keys(PUBLIC)) expect(table.get(key), key).toBe('none');
    for (const key of keys.filter(isPublic)) expect(subjectScoped(key, table.get(key)!), key).toBe(false);

    // The snapshot the attacks are checked against holds one of everything they aim at.
    const tables = new Set(victimRows.map((r) => r.split(' ')[0]));
    for (const t of ['accounts', 'sessions', 'orders', 'devices', 'device_tokens', 'contacts', 'sealed_values', 'consent_current', 'consent_receipts', 'rights_requests', 'crash_reports']) expect(tables, t).toContain(t);

    const attacked = keys.filter((k) => !isPublic(k)).sort();
    expect(Object.keys(ATTACKS).sort()).toEqual(attacked);
    expect(keys.filter((k) => subjectScoped(k, table.get(k)!)).every((k) => k in ATTACKS)).toBe(true);
  });

  it.each(Object.keys(ATTACKS) as RouteKey[])('R-SEC-4, R-ACC-1: %s with another user\'s token acts on the caller only; the victim\'s rows are unchanged', async (key) => {
    const before = await reached(key, world.b.id);
    await ATTACKS[key]!(world);
    // The server routed the attack to this very route, with the attacker signed in (not a 404 or a bad token).
    expect(await reached(key, world.b.id)).toBeGreaterThan(before);
    expect(await rowsNaming(stack, world.a.id)).toEqual(victimRows);
  });

  it('R-SEC-4: the same calls without a token answer 401 UNAUTHENTICATED on every route that needs a user', async () => {
    const table = routeTable(stack.app);
    const needUser = [...table].filter(([, auth]) => auth === 'bearer').map(([key]) => key as RouteKey);
    for (const key of needUser) {
      // Calls the schema refused would be refused again before anyone is asked who is calling: not worth replaying.
      const replays = (calls.get(key) ?? []).filter((c) => c.code !== 'VALIDATION_FAILED' && c.code !== 'UNKNOWN_FIELD').map((c) => c.request);
      expect(replays.length, `${key} was never called past its schema`).toBeGreaterThan(0);
      for (const { headers: _token, ...request } of replays) {
        const res = await stack.app.inject(request);
        expect(res.statusCode, `${key}: ${res.body}`).toBe(401);
        expect(res.json().code).toBe('UNAUTHENTICATED');
      }
    }
    expect(await rowsNaming(stack, world.a.id)).toEqual(victimRows);
  });

  it('R-ACC-1: afterwards the victim sees exactly what she saw before, and still signs in', async () => {
    expect(await viewOf(stack, world.a)).toEqual(victimView);
    expect(await signIn(stack, world.a.p.email, world.a.p.password)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
