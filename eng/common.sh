#!/usr/bin/env bash
# Shared by run.sh and test.sh: checks the .NET SDK and installs OS prerequisites.
set -euo pipefail

fs_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

fs_require_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "FailureSynth needs the .NET SDK 10.0 (dotnet on PATH). Install it from your distribution or Microsoft's packages, then re-run." >&2
    exit 1
  fi
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}
