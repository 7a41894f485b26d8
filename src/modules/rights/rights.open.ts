import { assertEveryPersonalTablePurged } from './rights.purge.js';
import { systemContext } from '../../internal/context.js';
import type { RightsDeps } from './rights.deps.js';
import { RightsDoer } from './rights.doer.js';
import { RightsService } from './rights.service.js';
import { ExportFiles } from './rights.files.js';

/** The rights module as the rest of the process sees it: the request lifecycle, the data view, the export files. */
export interface RightsServices {
  readonly requests: RightsService;
  readonly doer: RightsDoer;
  readonly exports: ExportFiles;
  readonly deps: RightsDeps;
}

/** Built last in `createServices`, from the services of the modules whose data it reads, corrects and erases. */
export function openRights(deps: RightsDeps): RightsServices {
  assertEveryPersonalTablePurged(deps.policy);
  const doer = new RightsDoer(deps);
  const exports = new ExportFiles(deps);
  // R-DSR-6: export files live for the policy's link validity, then the retention run deletes them.
  deps.retention?.registerSweep('rights.exports', async (db, now) => ({ removed: await exports.sweep(systemContext('retention'), now, db) }));
  return { requests: new RightsService(deps.db, deps.policy, deps.audit, doer), doer, exports, deps };
}
