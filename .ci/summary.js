// Prints vitest's JSON report as one plain closing line: "Tests: N passed, N failed, N skipped".
import * as fs from 'node:fs';

const r = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
console.log(
  `Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + (r.numTodoTests ?? 0)} skipped`,
);
process.exit(r.numFailedTests > 0 || r.numPassedTests === 0 ? 1 : 0);
