#!/usr/bin/env bash
# FailureSynth's main job: the demo campaign (campaigns/demo.yaml) through the distributed system. The AppHost
# starts rabbitmq-server, redis-server and the five services (Student, Teacher, ImageSynth, QualityFilter,
# Trainer) as local processes, the Trainer runs two iterations of evaluate -> locate -> diagnose -> synthesise
# -> filter -> train -> measure over the bus, and the report and dataset are written to ./out/demo (or $1).
# The base student is trained once and cached in out/cache. Installs missing OS prerequisites first (as root).
# The same campaign in-process: dotnet run --project tools/FailureSynth.Cli -c Release -- campaign run --config campaigns/demo.yaml --out DIR
set -euo pipefail
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  cat <<'USAGE'
Usage: ./run.sh [OUT_DIR]

Runs the demo campaign (campaigns/demo.yaml) through the AppHost and the five services (Student, Teacher,
ImageSynth, QualityFilter, Trainer) with RabbitMQ and Redis as local processes, then stops them.
OUT_DIR (default: out/demo) receives report.html, report.md, report.json, dataset/ and the stage files.
The base student is trained once (about 5 minutes on 2 cores) and cached in out/cache.
Missing OS packages are installed first (as root), or the apt-get line to run is printed.

The same campaign in-process: dotnet run --project tools/FailureSynth.Cli -c Release -- campaign run --config campaigns/demo.yaml --out DIR
Docs: README.md, docs/getting-started.md
USAGE
  exit 0
fi
if [[ "${1:-}" == -* ]]; then
  echo "run.sh: unknown option '$1' (the only argument is the output folder; see ./run.sh --help)" >&2
  exit 2
fi
source "$(dirname "$0")/eng/common.sh"
cd "$fs_root"

fs_require_dotnet
bash eng/install-prereqs.sh

out="${1:-$fs_root/out/demo}"
echo "Building the AppHost and the services..."
dotnet build FailureSynth.AppHost -c Release -nologo -clp:ErrorsOnly -v:q
for service in Student Teacher ImageSynth QualityFilter Trainer; do
  dotnet build "services/FailureSynth.$service" -c Release -nologo -clp:ErrorsOnly -v:q
done
dotnet "$fs_root/FailureSynth.AppHost/bin/Release/net10.0/FailureSynth.AppHost.dll" run campaigns/demo.yaml --out "$out" --no-build --quiet
