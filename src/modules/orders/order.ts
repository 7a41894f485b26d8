import type { CardBrand } from './card.js';

/** A postal address as the shop collects it; every field is personal (user.contact.address). */
export interface PostalAddress {
  readonly name: string;
  readonly line1: string;
  readonly line2?: string | undefined;
  readonly postalCode: string;
  readonly city: string;
  readonly country: string;
}

export interface OrderItem {
  readonly sku: string;
  readonly title: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
}

export interface Delivery {
  readonly address: PostalAddress;
  readonly phone?: string | undefined;
  readonly instructions?: string | undefined;
}

export interface BankAccount {
  readonly holder: string;
  readonly iban: string;
}

export interface CreditCheck {
  readonly provider: string;
  readonly result: 'approved' | 'declined' | 'review';
  readonly score?: number | undefined;
  readonly checkedAt: string;
}

export interface ContactRecord {
  readonly at: string;
  readonly channel: 'email' | 'phone' | 'chat' | 'letter';
  readonly summary: string;
}

export interface CardOnOrder {
  readonly token: string;
  readonly brand: CardBrand;
  readonly last4: string;
}

/** Where an order's delivery stands; it only moves forward, set by staff (the admin API) as the carrier reports. */
export const DELIVERY_STATUSES = ['pending', 'shipped', 'delivered'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What a client sends: the card arrives as a number and leaves the service as a token. */
export interface NewOrder {
  readonly currency: string;
  readonly items: readonly OrderItem[];
  readonly delivery: Delivery;
  readonly billingAddress: PostalAddress;
  readonly bankAccount?: BankAccount | undefined;
  readonly card?: { readonly number: string } | undefined;
  readonly creditCheck?: CreditCheck | undefined;
  readonly contactRecords?: readonly ContactRecord[] | undefined;
}

/** An order as its owner reads it: card as token/brand/last4, bank account masked. */
export interface OrderView {
  readonly id: string;
  readonly placedAt: string;
  readonly legalHoldUntil: string;
  readonly currency: string;
  readonly items: readonly OrderItem[];
  readonly totalCents: number;
  readonly deliveryStatus: DeliveryStatus;
  readonly deliveredAt: string | null;
  /** Null once the person had the delivery details erased after delivery (R-DSR-2, part). */
  readonly delivery: Delivery | null;
  readonly deliveryErasedAt: string | null;
  readonly billingAddress: PostalAddress;
  readonly bankAccount: { readonly holder: string; readonly iban: string } | null;
  readonly card: CardOnOrder | null;
  readonly creditCheck: CreditCheck | null;
  readonly contactRecords: readonly ContactRecord[];
}

/** What staff see of a delivery change: state only, no personal field. */
export interface DeliveryState {
  readonly id: string;
  readonly deliveryStatus: DeliveryStatus;
  readonly deliveredAt: string | null;
}
