import type { Config } from '../../internal/config/config.js';
import type { Engine } from '../../internal/db/engine.js';
import type { DecisionGate } from '../consent/decision.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { CompiledPolicy } from '../policy/policy.js';
import { openKeyStore } from './key-store.js';
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
  return new Vault({ policy: inputs.policy, keys, gate: inputs.gate ?? new PolicyOnlyGate(inputs.policy), audit: inputs.audit, keyStore });
}
