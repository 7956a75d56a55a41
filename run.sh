#!/usr/bin/env bash
# FailureSynth's main job: the demo campaign (campaigns/demo.yaml) through the distributed system, run by the Aspire
# AppHost. It starts RabbitMQ ("messaging", with its own epmd) and Redis ("cache") as local processes managed by DCP
# (or Aspire's containers where a container runtime works), the five services (Student, Teacher, ImageSynth,
# QualityFilter, Trainer) once what they need is healthy, and the Aspire dashboard (its URL and login token are
# printed). The Trainer runs two iterations of evaluate -> locate -> diagnose -> synthesise -> filter -> train ->
# measure over the bus; the report and dataset are written to ./out/demo (or $1); then everything stops.
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
Prints the Aspire dashboard's URL and login token while it runs, and the campaign's progress: one line per stage
redrawn in place on a terminal, plain lines (stage start and end, at most one every 10 s) when redirected.
Ctrl+C stops the campaign and every process the AppHost started.
The AppHost's own options: dotnet run --project FailureSynth.AppHost -- --help

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

out="$(realpath -m "${1:-$fs_root/out/demo}")"  # absolute: dotnet run starts the AppHost in its own folder
echo "Building the AppHost and the services..."
dotnet build FailureSynth.AppHost -c Release -nologo -clp:ErrorsOnly -v:q
# Aspire's own start-up chatter is kept to warnings; the dashboard's URL and login token are still printed.
exec env "Logging__LogLevel__Default=Warning" "Logging__LogLevel__Aspire.Hosting.DistributedApplication=Information" \
  dotnet run --project FailureSynth.AppHost -c Release --no-build -- run "$fs_root/campaigns/demo.yaml" --out "$out"
