#!/usr/bin/env bash
# Adds up the counters of every TRX file in a folder and prints "N passed, N failed".
# Failed tests are named (with the first line of their message) just above that line, so a log's tail says which.
# Exits non-zero when a test failed or no test ran at all.
set -uo pipefail
dir="${1:?usage: summarize-tests.sh RESULTS_DIR}"
passed=0; failed=0; total=0
shopt -s nullglob
files=("$dir"/*.trx)
for f in "${files[@]}"; do
  counters=$(grep -o '<Counters [^>]*>' "$f" | head -n 1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  p=$(get passed); fl=$(get failed); t=$(get total); e=$(get error); to=$(get timeout); ab=$(get aborted)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${fl:-0} + ${e:-0} + ${to:-0} + ${ab:-0}))
  total=$((total + ${t:-0}))
done
if [ ${#files[@]} -eq 0 ]; then
  echo "no test results found in $dir" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
if [ "$failed" -ne 0 ]; then
  echo "Failed tests:"
  for f in "${files[@]}"; do
    # TRX: <UnitTestResult ... testName="..." ... outcome="Failed"> ... <Message>first line
    python3 - "$f" <<'PY' 2>/dev/null || grep -o 'testName="[^"]*"[^>]*outcome="Failed"' "$f" | sed 's/^testName="\([^"]*\)".*/  \1/'
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for r in ET.parse(sys.argv[1]).getroot().iterfind(".//t:UnitTestResult", ns):
    if r.get("outcome") != "Passed":
        m = r.find(".//t:Message", ns)
        first = (m.text or "").strip().splitlines()[0][:300] if m is not None and m.text else ""
        print(f"  {r.get('testName')} ({r.get('outcome')}): {first}")
PY
  done
fi
echo "${passed} passed, ${failed} failed"
if [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then exit 1; fi
exit 0
