import { ensureWebBuild } from './web-build.js';

/** Builds the Privacy Center once, before any worker starts, so parallel browser test files never race on web/dist. */
export default function setup(): void {
  ensureWebBuild();
}
