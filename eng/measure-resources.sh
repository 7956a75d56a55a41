#!/usr/bin/env bash
# Measures what each process of the system uses while one campaign runs through the AppHost: CPU seconds
# (user + system, from /proc/PID/stat) and peak resident memory (VmHWM, the kernel's own high-water mark, so
# sampling cannot miss a peak). docs/deploy.md derives the Kubernetes requests and limits from these figures.
#
#   eng/measure-resources.sh [CAMPAIGN.yaml] [OUT_DIR]      (defaults: deploy/sizing/campaign-small.yaml, out/sizing)
#
# Prints one line per process kind (student, teacher, imagesynth, qualityfilter, trainer, rabbitmq, redis):
# CPU seconds, peak RSS in MiB, and how many processes of that kind ran. Needs a built AppHost and services
# (dotnet build FailureSynth.AppHost -c Release). Delete the campaign's student cache first to count the base training.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$fs_root"
fs_require_dotnet

campaign="${1:-deploy/sizing/campaign-small.yaml}"
out="$(realpath -m "${2:-$fs_root/out/sizing}")"
[ -f "$campaign" ] || { echo "measure-resources: no campaign file '$campaign'" >&2; exit 2; }
mkdir -p "$out"
samples="$out/samples.tsv"
: > "$samples"
ticks=$(getconf CLK_TCK)

# dotnet run: the AppHost's launch profile (plain-http dashboard) applies; paths absolute, as it starts in its own folder.
dotnet run --project FailureSynth.AppHost -c Release --no-build -- run "$(realpath "$campaign")" --out "$out/campaign" > "$out/apphost.log" 2>&1 &
apphost=$!
while kill -0 "$apphost" 2>/dev/null; do
  fs_sample_processes "$samples" run "$fs_root"
  sleep 1
done
wait "$apphost" && status=0 || status=$?
echo "campaign: $campaign (AppHost exit $status; log $out/apphost.log)"
# The last sample of each process is its total; a kind sums its processes' CPU and takes their largest peak.
awk -F'\t' -v ticks="$ticks" '
  { cpu[$3] = $4; hwm[$3] = ($5 > hwm[$3] ? $5 : hwm[$3]); kind[$3] = $2 }
  END {
    for (p in kind) { k = kind[p]; c[k] += cpu[p] / ticks; if (hwm[p] > m[k]) m[k] = hwm[p]; n[k]++ }
    for (k in c) printf "%-14s %12.1f %14.0f %10d\n", k, c[k], m[k] / 1024, n[k]
  }' "$samples" | sort > "$out/summary.body"
{ printf '%-14s %12s %14s %10s\n' process cpu_seconds peak_rss_mib processes; cat "$out/summary.body"; } | tee "$out/summary.txt"
rm -f "$out/summary.body"
exit "$status"
