#!/usr/bin/env bash
# Runs FailureSynth's whole test suite. Installs missing OS prerequisites first (as root).
# Results (TRX files) go to artifacts/test-results/; the last line is "N passed, N failed".
set -euo pipefail
source "$(dirname "$0")/eng/common.sh"
cd "$fs_root"

fs_require_dotnet
bash eng/install-prereqs.sh --with-torch --with-browser --with-deploy

results="$fs_root/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

echo "Building..."
dotnet build FailureSynth.sln -c Release -nologo -clp:ErrorsOnly

echo "Testing..."
set +e
dotnet test FailureSynth.sln -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" "$@"
status=$?
set -e

bash eng/summarize-tests.sh "$results"
summary_status=$?
if [ $status -ne 0 ] || [ $summary_status -ne 0 ]; then
  exit 1
fi
