#!/usr/bin/env bash
# `./dev test` and `./dev test:reliability`: runs vitest, then makes sure its exit status cannot
# say 0 while a test failed. A library loaded by the tests can end the process on its own exit
# hook with status 0 after vitest set a failure code (issue 34: embedded-postgres's
# async-exit-hook did), so the JSON report vitest writes (vitest configs: .tmp/vitest-results.json)
# is read as a backstop: a run whose report says it did not succeed exits 1 whatever the status.
# A run that replaced the reporters (--reporter ...) writes no report; its status stands alone.
set -euo pipefail
task=$1
shift
report="$PWD/.tmp/vitest-results.json"
rm -f "$report"
status=0
pnpm "$task" "$@" || status=$?
if [ "$status" = 0 ] && [ -f "$report" ]; then
  verdict=$(node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const failed = r.numFailedTests + r.numFailedTestSuites;
if (r.success === false || failed > 0) console.log(`${r.numFailedTests} failed tests, ${r.numFailedTestSuites} failed files`);
' "$report" 2>&1) || verdict="unreadable report ($verdict)"
  if [ -n "$verdict" ]; then
    echo "./dev $task: vitest's process exited 0 but its report says the run failed ($verdict): exit 1" >&2
    status=1
  fi
fi
exit "$status"
