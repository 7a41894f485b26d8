#!/usr/bin/env node
// `npm start` on a fresh clone: web/dist is git-ignored, so build the Privacy Center once when it is
// missing. A build that exists is left alone (run `npm run build` after changing web/).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
if (!existsSync(path.join(root, 'web', 'dist', 'index.html'))) {
  console.error('Privacy Center not built yet: building web/ …');
  const result = spawnSync(process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', path.join(root, 'web', 'vite.config.ts')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
