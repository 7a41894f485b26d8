import type { AuditHeadTable, AuditLogTable } from '../../modules/audit/audit.table.js';

/** Every table of Pledge, one interface; each module owns and declares its own tables. */
export interface Database {
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
}
