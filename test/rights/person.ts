import { randomUUID } from 'node:crypto';
import type { ActorContext } from '../../src/internal/context.js';
import { Accounts } from '../../src/modules/accounts/accounts.service.js';
import { OrdersService } from '../../src/modules/orders/orders.service.js';
import type { TestStack } from '../support/engines.js';

export const userCtx = (id: string): ActorContext => ({ actor: { type: 'user', id }, requestId: randomUUID() });

/** The module services a rights test drives, built on the stack's store and vault. */
export function moduleServices(stack: TestStack) {
  const { engine, vault, audit, policy } = stack.services;
  return { accounts: new Accounts(engine.db, vault, audit, policy, undefined), orders: new OrdersService({ db: engine.db, vault, audit, policy }) };
}

export interface Person {
  readonly id: string;
  readonly email: string;
  readonly phone: string;
  readonly orderIds: readonly string[];
}

let n = 0;
/** A person with an account and `orders` orders; the first order's legal hold has already ended. */
export async function makePerson(stack: TestStack, orders = 2): Promise<Person> {
  const m = moduleServices(stack);
  n++;
  const email = `erin.${n}.${randomUUID().slice(0, 6)}@example.org`;
  const phone = `+4915123${String(400000 + Math.floor(Math.random() * 99999)).padStart(6, '0')}`;
  const id = await m.accounts.signUp(userCtx('anonymous'), {
    name: 'Erin Example', email, phone, postalAddress: { line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' },
    birthDate: '1990-04-02', region: 'DE', language: 'de', timeZone: 'Europe/Berlin', password: 'correct horse battery staple',
  });
  const orderIds: string[] = [];
  for (let i = 0; i < orders; i++) {
    const o = await m.orders.place(userCtx(id), {
      currency: 'EUR', items: [{ sku: 'AP-1', title: 'Air purifier', quantity: 1, unitPriceCents: 19900 }],
      delivery: { address: { name: 'Erin Example', line1: '1 Main St', postalCode: '10115', city: 'Berlin', country: 'DE' } },
      billingAddress: { name: 'Erin Example', line1: '1 Main St', postalCode: '10115', city: 'Berlin', country: 'DE' },
      card: { number: '4111111111111111' },
      creditCheck: { provider: 'schufa', result: 'approved', checkedAt: new Date().toISOString() },
    });
    orderIds.push(o.id);
  }
  if (orderIds[0]) await stack.services.engine.db.updateTable('orders').set({ legal_hold_until: '2020-01-01T00:00:00.000Z' }).where('id', '=', orderIds[0]).execute();
  return { id, email, phone, orderIds };
}
