import type { Engine } from '../../internal/db/engine.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { Vault } from '../vault/vault.service.js';
import type { Outbox } from '../notices/outbox.service.js';
import { Accounts, type ChildMarker } from './accounts.service.js';
import { ProfileUpdater } from './profile-updater.js';
import { AccountImporter } from './account-importer.js';
import { Sessions } from './sessions.service.js';
import { SignInThrottle } from './sign-in-throttle.js';
import { StepUp } from './step-up.service.js';

/** Accounts (issue 3): sign-up and profiles, sessions, step-up, profile changes. */
export interface AccountsServices {
  readonly accounts: Accounts;
  readonly sessions: Sessions;
  readonly stepUp: StepUp;
  readonly profile: ProfileUpdater;
  /** `pledge import`: bulk accounts through sign-up's validation and sealing. */
  readonly importer: AccountImporter;
  /** Starts the hourly sweep of expired sessions and stale throttle rows; returns its stopper. */
  startHousekeeping(intervalMs?: number): () => void;
}

export function createAccountsModule(inputs: {
  readonly engine: Engine;
  readonly vault: Vault;
  readonly audit: AuditLog;
  readonly policy: CompiledPolicy;
  readonly outbox: Outbox;
  readonly children: ChildMarker | undefined;
}): AccountsServices {
  const { engine, vault, audit, policy, outbox } = inputs;
  const accounts = new Accounts(engine.db, vault, audit, policy, inputs.children);
  const sessions = new Sessions(engine.db, vault, audit, new SignInThrottle(engine.db, engine.kind, (ip) => vault.blindIndex('ip', ip)));
  return {
    accounts,
    sessions,
    stepUp: new StepUp(engine.db, vault, audit, policy, sessions, accounts, outbox),
    profile: new ProfileUpdater(engine.db, vault, audit, policy, accounts, sessions, outbox),
    importer: new AccountImporter(engine.db, accounts, { vault, audit, children: inputs.children }),
    startHousekeeping(intervalMs = 3600_000) {
      const timer = setInterval(() => {
        void Promise.all([sessions.sweepExpired(), sessions.throttle.sweep()]).catch(() => undefined);
      }, intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
