import type { Config } from '../../internal/config/config.js';
import type { Engine } from '../../internal/db/engine.js';
import type { DecisionGate } from '../consent/decision.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { CompiledPolicy } from '../policy/policy.js';
import { openKeyStore } from './key-store.js';
import { KeyReserve, type KeyMaker } from './key-reserve.js';
import { LocalKeyProvider } from './local-key-provider.js';
import { PolicyOnlyGate } from './policy-only-gate.js';
import { Vault } from './vault.service.js';
import type { KeyProvider } from './vault.js';

export interface OpenVaultInputs {
  readonly config: Config;
  readonly engine: Engine;
  readonly policy: CompiledPolicy;
  readonly audit: AuditLog;
  /** Defaults to the policy-only gate until the consent module's decision engine is wired in. */
  readonly gate?: DecisionGate;
  /** Defaults to the local key ring (PLEDGE_MASTER_KEY / keyring.json in the data directory). */
  readonly keys?: KeyProvider;
}

/** Builds the vault for a store: key provider, key store (created when missing) and decision gate. */
export async function openVault(inputs: OpenVaultInputs): Promise<Vault> {
  const keys = inputs.keys ?? new LocalKeyProvider({ dataDir: inputs.config.dataDir, masterKey: inputs.config.masterKey });
  const keyStore = await openKeyStore(inputs.engine);
  const { engine } = inputs;
  // SQLite only: its key file commits at FULL on its own; PostgreSQL commits key and row in one transaction.
  const reserve = engine.kind === 'sqlite' && engine.sqlite ? (makeKey: KeyMaker) => new KeyReserve({ db: engine.db, raw: engine.sqlite!, keyStore, makeKey }) : undefined;
  return new Vault({ policy: inputs.policy, keys, gate: inputs.gate ?? new PolicyOnlyGate(inputs.policy), audit: inputs.audit, keyStore, ...(reserve ? { reserve } : {}) });
}
