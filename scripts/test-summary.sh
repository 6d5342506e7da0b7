#!/usr/bin/env bash
# Prints the one line "N passed, N failed" for a test run from its TRX files, and exits 1 when
# anything failed. scripts/test.sh calls it; it is a script of its own so that a test can feed it
# crafted TRX files.
# Usage: bash scripts/test-summary.sh RESULTS_DIR PROJECT=EXIT_CODE...
#   RESULTS_DIR holds PROJECT.trx for each project; EXIT_CODE is what `dotnet test` returned for it.
# Counted as failed, besides `failed`: `error`, `timeout`, `aborted`, `inconclusive`,
# `disconnected`, every test that did not run (`notExecuted`, `notRunnable`, or `total` above
# `executed`), a project without a TRX file or without counters in it, and a project whose
# `dotnet test` failed while its TRX shows no failure (a test host that crashed or hung before
# it reported its tests).
set -uo pipefail
results=$1
shift

# Prints the value of counter $2 in the <Counters> element $1, 0 when absent.
counter() {
  local v
  v=$(sed -n "s/.* $2=\"\([0-9]*\)\".*/\1/p" <<<"$1")
  echo "${v:-0}"
}

passed=0; failed=0
for entry in "$@"; do
  name=${entry%=*}; code=${entry##*=}
  trx="$results/$name.trx"
  counters=""
  [ -f "$trx" ] && counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  if [ -z "$counters" ]; then
    echo "$name: no test results (the test host crashed or never started)" >&2
    failed=$((failed + 1)); continue
  fi
  total=$(counter "$counters" total); executed=$(counter "$counters" executed)
  bad=0
  for c in failed error timeout aborted inconclusive disconnected; do
    bad=$((bad + $(counter "$counters" "$c")))
  done
  unrun=$(( $(counter "$counters" notExecuted) + $(counter "$counters" notRunnable) ))
  [ $((total - executed)) -gt "$unrun" ] && unrun=$((total - executed))
  [ "$unrun" -gt 0 ] && echo "$name: $unrun of $total tests did not run" >&2
  bad=$((bad + unrun))
  if [ "$code" != 0 ] && [ "$bad" -eq 0 ]; then
    echo "$name: dotnet test exited with $code although its results show no failure" >&2
    bad=1
  fi
  passed=$((passed + $(counter "$counters" passed))); failed=$((failed + bad))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
