import type { CompiledPolicy } from '../policy/policy.js';
import type { ConsentChange } from './consent.js';

/**
 * Categories we treat as sensitive in receipts (Kantara `sensitive` / `spiCat`). The policy does not name
 * sensitive categories; these are ours: money, credentials and precise location.
 */
const SENSITIVE_PREFIXES = ['user.financial', 'user.authorization', 'user.location.precise'];

export interface ReceiptPurpose {
  readonly purposeId: string;
  readonly purpose: string;
  readonly purposeCategory: readonly string[];
  readonly consentType: 'EXPLICIT';
  readonly consentStatus: string;
  readonly piiCategory: readonly string[];
  readonly primaryPurpose: boolean;
  readonly termination: string;
  readonly thirdPartyDisclosure: boolean;
  readonly thirdPartyName?: string;
}

/** The Kantara Initiative Consent Receipt v1.1 fields, plus the policy version and hash it was given under. */
export interface KantaraReceipt {
  readonly version: 'KI-CR-v1.1.0';
  readonly jurisdiction: string;
  readonly consentTimestamp: number;
  readonly collectionMethod: string;
  readonly consentReceiptID: string;
  readonly language: string;
  readonly piiPrincipalId: string;
  readonly piiControllers: readonly { piiController: string; contact: string; email: string; piiControllerUrl: string; onBehalf: boolean }[];
  readonly policyUrl: string;
  readonly services: readonly { service: string; purposes: readonly ReceiptPurpose[] }[];
  readonly sensitive: boolean;
  readonly spiCat: readonly string[];
  readonly policyVersion: string;
  readonly policyHash: string;
  [claim: string]: unknown;
}

export interface ReceiptProps {
  readonly receiptId: string;
  readonly subjectId: string;
  readonly at: Date;
  readonly collectionMethod: string;
  readonly changes: readonly ConsentChange[];
}

export function buildReceipt(policy: CompiledPolicy, props: ReceiptProps): KantaraReceipt {
  const purposes: ReceiptPurpose[] = [];
  const spi = new Set<string>();
  for (const change of props.changes) {
    const p = policy.purposes.get(change.purpose);
    if (!p) continue;
    const categories = [...p.categories].sort();
    for (const c of categories) if (SENSITIVE_PREFIXES.some((s) => c === s || c.startsWith(`${s}.`))) spi.add(c);
    const withdrawable = p.needsConsent;
    purposes.push({
      purposeId: p.name,
      purpose: p.title,
      purposeCategory: [p.dataUse],
      consentType: 'EXPLICIT',
      consentStatus: change.status,
      piiCategory: categories,
      primaryPurpose: !p.needsConsent,
      termination: p.consentExpiresMs ? `withdrawal, or ${Math.round(p.consentExpiresMs / 86_400_000)} days after it was given` : withdrawable ? 'withdrawal' : 'end of the contract',
      thirdPartyDisclosure: p.recipientTypes.length > 0,
      ...(p.recipientTypes.length > 0 ? { thirdPartyName: p.recipientTypes.join(', ') } : {}),
    });
  }
  const c = policy.controller;
  return {
    version: 'KI-CR-v1.1.0',
    jurisdiction: c.jurisdiction,
    consentTimestamp: Math.floor(props.at.getTime() / 1000),
    collectionMethod: props.collectionMethod,
    consentReceiptID: props.receiptId,
    language: 'en',
    piiPrincipalId: props.subjectId,
    piiControllers: [{ piiController: c.name, contact: c.contact, email: c.contact, piiControllerUrl: c.policyUrl, onBehalf: false }],
    policyUrl: c.policyUrl,
    services: [{ service: policy.name, purposes }],
    sensitive: spi.size > 0,
    spiCat: [...spi].sort(),
    policyVersion: policy.version,
    policyHash: policy.hash,
  };
}
