#!/usr/bin/env bash
# FailureSynth's main job: the demo campaign (campaigns/demo.yaml), in-process. It trains the base
# student once (cached in out/cache), then runs two iterations of evaluate -> locate -> diagnose ->
# synthesise -> filter -> train -> measure, and writes the dataset and the report.
# Installs missing OS prerequisites first (as root). Output goes to ./out/demo (or $1); rerunning
# into the same folder resumes after the last finished stage.
set -euo pipefail
source "$(dirname "$0")/eng/common.sh"
cd "$fs_root"

fs_require_dotnet
bash eng/install-prereqs.sh

out="${1:-$fs_root/out/demo}"
echo "Building the failuresynth command..."
dotnet build tools/FailureSynth.Cli -c Release -nologo -clp:ErrorsOnly -v:q
dotnet "$fs_root/tools/FailureSynth.Cli/bin/Release/net10.0/failuresynth.dll" campaign run --config campaigns/demo.yaml --out "$out"
