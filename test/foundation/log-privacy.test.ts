import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStack, type TestStack } from '../support/engines.js';

// The log is engine-independent: one store is enough.
describe('the server log holds no client address and no raw URL', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack('sqlite');
  });
  afterAll(async () => stack.close());

  it('R-SEC-4, R-TEL-4: requests are logged by method and route pattern; the client IP and a token in the path never reach the log', async () => {
    const ip = '203.0.113.77';
    const token = randomBytes(12).toString('hex');
    const before = stack.logs.text().length;
    const pixel = await stack.app.inject({ method: 'GET', url: `/v1/px/${token}.gif`, remoteAddress: ip });
    expect(pixel.statusCode).toBe(200);
    const unknown = await stack.app.inject({ method: 'GET', url: `/v1/no-such-route/${token}?email=someone%40example.org`, remoteAddress: ip });
    expect(unknown.statusCode).toBe(404);
    const log = stack.logs.text().slice(before);
    // The lines are there (the check looks at real request logging), with the route pattern instead of the URL.
    expect(log).toContain('request completed');
    expect(log).toContain('/v1/px/:file');
    expect(log).not.toContain(ip);
    expect(log).not.toContain(token);
    expect(log).not.toContain('someone');
  });
});
