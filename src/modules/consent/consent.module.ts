import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from '../../internal/config/config.js';
import { systemContext } from '../../internal/context.js';
import type { Engine } from '../../internal/db/engine.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { CompiledPolicy } from '../policy/policy.js';
import { ApiKeyService } from '../apikeys/apikey.service.js';
import { DecisionEngine } from './decision.engine.js';
import { ConsentLedger } from './consent.service.js';
import { SubjectStatusService } from './subject-status.service.js';
import { ReceiptSigner } from './receipt.signer.js';
import { CookieConsentService } from './cookie-consent.service.js';
import { TcfEncoder } from './web-signals.js';

export interface ConsentModule {
  readonly decisions: DecisionEngine;
  readonly consents: ConsentLedger;
  readonly subjectStatus: SubjectStatusService;
  readonly receiptSigner: ReceiptSigner;
  readonly cookieConsent: CookieConsentService;
  readonly apiKeys: ApiKeyService;
  /** Secret that signs the visitor consent cookie (kept in the data dir, mode 0600). */
  readonly cookieSecret: string;
  stop(): Promise<void>;
}

const EXPIRY_SWEEP_MS = 60 * 60 * 1000;
const REPO_POLICY_DIR = path.resolve(import.meta.dirname, '../../../policy');

/** The vendor list beside the policy file, or the one shipped in the repository. */
function vendorListFile(policyFile: string): string {
  const beside = path.join(path.dirname(policyFile), 'tcf-vendor-list.json');
  return fs.existsSync(beside) ? beside : path.join(REPO_POLICY_DIR, 'tcf-vendor-list.json');
}

/** Reads the secret, or creates it on first start; created with O_EXCL so two processes agree on one. */
export function cookieSecret(dataDir: string): string {
  const file = path.join(dataDir, 'cookie-secret');
  try {
    fs.writeFileSync(file, randomBytes(32).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return fs.readFileSync(file, 'utf8').trim();
}

export async function createConsentModule(inputs: { config: Config; policy: CompiledPolicy; engine: Engine; audit: AuditLog }): Promise<ConsentModule> {
  const { config, policy, engine, audit } = inputs;
  const decisions = new DecisionEngine(engine, policy);
  // Its key is opened by the vault, which needs this module's decisions first: services.ts calls init after both exist.
  const receiptSigner = new ReceiptSigner();
  await decisions.start();
  const consents = new ConsentLedger(policy, audit, decisions, receiptSigner);
  const cookieConsent = new CookieConsentService(policy, consents, decisions, new TcfEncoder(vendorListFile(config.policyFile), policy.controller.jurisdiction));
  // The expiry sweeper: decisions already deny past expiry; this appends the 'expired' events to the ledger.
  const sweep = setInterval(() => {
    consents.expireDue(engine.db, systemContext('consent-expiry')).catch(() => undefined);
  }, EXPIRY_SWEEP_MS);
  sweep.unref();
  return {
    decisions,
    consents,
    subjectStatus: new SubjectStatusService(audit, decisions),
    receiptSigner,
    cookieConsent,
    apiKeys: new ApiKeyService(audit),
    cookieSecret: cookieSecret(config.dataDir),
    stop: () => {
      clearInterval(sweep);
      return decisions.stop();
    },
  };
}
