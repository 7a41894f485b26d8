import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, createStack, type TestStack } from '../support/engines.js';
import { bearer, newUser } from '../support/people.js';
import { policyFile } from '../support/policy-text.js';

// The seed policy has one threshold (13) for every region; a region of its own (here KR at 14, as Korean law sets)
// is one line of the policy file, and sign-up follows it without a code change.
describe.each(ENGINES)('children: the age threshold per region, from the policy, on %s', (kind) => {
  let stack: TestStack;
  beforeAll(async () => {
    const file = policyFile((d) => {
      d.children.regions = { KR: 14 };
    });
    stack = await createStack(kind, { env: { PLEDGE_POLICY: file } });
  });
  afterAll(async () => stack.close());

  const isChild = async (region: string, age: number): Promise<boolean> => {
    const { token } = await newUser(stack, { region, birthDate: `${new Date().getUTCFullYear() - age}-01-01` });
    return (await stack.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).json().child as boolean;
  };

  it('R-KID-1: a 13-year-old is a child in a region whose threshold is 14, and not where the default 13 applies', async () => {
    expect(await isChild('KR', 13)).toBe(true);
    expect(await isChild('KR', 14)).toBe(false);
    expect(await isChild('DE', 13)).toBe(false);
    expect(await isChild('DE', 12)).toBe(true);
  });
});
