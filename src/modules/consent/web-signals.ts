import fs from 'node:fs';
import { GVL, TCModel, TCString } from '@iabtcf/core';

/** The cookie banner's choices; `necessary` cannot be refused (contract basis). */
export interface CookieChoices {
  readonly necessary: true;
  readonly preferences: boolean;
  readonly analytics: boolean;
  readonly marketing: boolean;
}

export type ConsentModeValue = 'granted' | 'denied';

/** Google Consent Mode v2 state for the web snippet (`gtag('consent', 'update', …)`). */
export interface ConsentModeState {
  readonly ad_storage: ConsentModeValue;
  readonly analytics_storage: ConsentModeValue;
  readonly ad_user_data: ConsentModeValue;
  readonly ad_personalization: ConsentModeValue;
  readonly functionality_storage: ConsentModeValue;
  readonly personalization_storage: ConsentModeValue;
  readonly security_storage: ConsentModeValue;
}

const g = (on: boolean): ConsentModeValue => (on ? 'granted' : 'denied');

/**
 * Consent Mode v2 from our state: advertising storage and user data follow the marketing cookies;
 * ad personalisation also needs the personalised-advertising consent when the visitor is signed in.
 */
export function consentMode(c: CookieChoices, personalisedAds: boolean): ConsentModeState {
  return {
    ad_storage: g(c.marketing),
    analytics_storage: g(c.analytics),
    ad_user_data: g(c.marketing),
    ad_personalization: g(c.marketing && personalisedAds),
    functionality_storage: g(c.preferences),
    personalization_storage: g(c.preferences),
    security_storage: 'granted',
  };
}

/** TCF v2.2 purposes each of our choices stands for (see docs/ARCHITECTURE.md, consent section). */
export function tcfPurposes(c: CookieChoices, personalisedAds: boolean): number[] {
  const on: number[] = [];
  if (c.preferences || c.analytics || c.marketing) on.push(1);
  if (c.marketing) on.push(2, 7);
  if (c.marketing && personalisedAds) on.push(3, 4);
  if (personalisedAds) on.push(5, 6);
  if (c.analytics) on.push(8, 9, 10);
  if (c.preferences) on.push(11);
  return on.sort((a, b) => a - b);
}

/** TCF vendor ids in policy/tcf-vendor-list.json: 1 the controller, 2 its processors, 3 the public (aggregates). */
export const TCF_CMP_ID = 300;

/** Builds TC strings against the vendor list we ship: nothing is downloaded. */
export class TcfEncoder {
  private readonly gvl: GVL;

  constructor(vendorListFile: string, private readonly countryCode: string) {
    this.gvl = new GVL(JSON.parse(fs.readFileSync(vendorListFile, 'utf8')) as ConstructorParameters<typeof GVL>[0]);
  }

  encode(purposes: readonly number[], at: Date): string {
    const m = new TCModel(this.gvl);
    m.cmpId = TCF_CMP_ID;
    m.cmpVersion = 1;
    m.consentScreen = 1;
    m.isServiceSpecific = true;
    m.publisherCountryCode = /^[A-Z]{2}$/.test(this.countryCode) ? this.countryCode : 'AA';
    m.created = at;
    m.lastUpdated = at;
    m.purposeConsents.set([...purposes]);
    m.publisherConsents.set([...purposes]);
    const vendor2 = [1, 2, 3, 4, 7, 8, 9];
    m.vendorConsents.set([...(purposes.length > 0 ? [1] : []), ...(purposes.some((p) => vendor2.includes(p)) ? [2] : [])]);
    return TCString.encode(m);
  }
}
