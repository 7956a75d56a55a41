#!/usr/bin/env bash
# FailureSynth's main job. Until the campaign loop lands, it generates the demo ShapesWorld
# dataset (base-skewed profile, the data a weak student is trained on) and summarises it.
# Installs missing OS prerequisites first (as root). Output goes to ./out/demo (or $1).
set -euo pipefail
source "$(dirname "$0")/eng/common.sh"
cd "$fs_root"

fs_require_dotnet
bash eng/install-prereqs.sh

out="${1:-$fs_root/out/demo}"
echo "Building the failuresynth command..."
dotnet build tools/FailureSynth.Cli -c Release -nologo -clp:ErrorsOnly -v:q
cli=(dotnet "$fs_root/tools/FailureSynth.Cli/bin/Release/net10.0/failuresynth.dll")

"${cli[@]}" world generate --profile base-skewed --count 2000 --seed 7 --out "$out/base-skewed"
"${cli[@]}" dataset inspect "$out/base-skewed"
echo
echo "Demo dataset: $out/base-skewed (llava.json, images/, provenance.jsonl, dataset_info.json, manifest.json)"
