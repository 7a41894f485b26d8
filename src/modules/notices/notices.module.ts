import type { Logger } from 'pino';
import type { Config } from '../../internal/config/config.js';
import type { Engine } from '../../internal/db/engine.js';
import type { CompiledPolicy } from '../policy/policy.js';
import type { RetentionSweeper } from '../retention/retention.service.js';
import type { Vault } from '../vault/vault.service.js';
import { createMailTransport } from './mail.transport.js';
import { Outbox } from './outbox.service.js';
import { registerOutboxSweep } from './outbox.sweeps.js';

/**
 * The e-mail outbox with its transport (SMTP_URL, or .eml files in PLEDGE_MAIL_DIR), from the policy's contact
 * address; its retention sweep is registered with the one sweeper.
 */
export function createOutbox(inputs: { readonly config: Config; readonly engine: Engine; readonly policy: CompiledPolicy; readonly vault: Vault; readonly logger: Logger; readonly retention: RetentionSweeper }): Outbox {
  const transport = createMailTransport({ smtpUrl: inputs.config.smtpUrl, mailDir: inputs.config.mailDir });
  registerOutboxSweep(inputs.retention, inputs.policy);
  return new Outbox(inputs.engine.db, inputs.vault, transport, `${inputs.policy.controller.name} <${inputs.policy.controller.contact}>`, inputs.logger);
}
