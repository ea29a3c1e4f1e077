/**
 * `node bin/scripts/chartStatus.js`: one line saying which chart-backed checks `npm test` could run on
 * this machine (charts whose packages are cached) and which it could not, and why. `.ci/run` prints
 * it after the tests, so a run's log says what was not rendered.
 */
import { chartCheckSummary } from "../verify/charts";

console.log(`ci: ${chartCheckSummary()}`);
