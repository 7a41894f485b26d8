import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStack, type TestStack } from '../support/engines.js';

describe('a malformed URL', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createStack('sqlite');
  });
  afterAll(async () => stack.close());

  it('R-SEC-4: is a 400 problem whose message does not repeat what the client put in the URL', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/v1/contacts/ana%40example.org%E0%A4%A' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).not.toContain('ana');
    expect(res.body).not.toContain('example.org');
  });
});
