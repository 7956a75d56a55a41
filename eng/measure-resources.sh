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

kind_of() { # the process kind from its command line, or nothing
  case "$1" in
    *FailureSynth.Student.dll*|*FailureSynth.Student\ *) echo student ;;
    *FailureSynth.Teacher.dll*|*FailureSynth.Teacher\ *) echo teacher ;;
    *FailureSynth.ImageSynth.dll*|*FailureSynth.ImageSynth\ *) echo imagesynth ;;
    *FailureSynth.QualityFilter.dll*|*FailureSynth.QualityFilter\ *) echo qualityfilter ;;
    *FailureSynth.Trainer.dll*|*FailureSynth.Trainer\ *) echo trainer ;;
    *beam.smp*) echo rabbitmq ;;
    *redis-server*) echo redis ;;
  esac
}

# dotnet run: the AppHost's launch profile (plain-http dashboard) applies; paths absolute, as it starts in its own folder.
dotnet run --project FailureSynth.AppHost -c Release --no-build -- run "$(realpath "$campaign")" --out "$out/campaign" > "$out/apphost.log" 2>&1 &
apphost=$!
# Only processes of this checkout count (their command lines name its folder, or they run in it):
# other runs on the same machine are not ours. DCP starts the services, so they are not all the AppHost's children.
ours() {
  local pid
  for pid in /proc/[0-9]*; do
    pid=${pid#/proc/}
    # Redis names no path in its command line, but runs in its data folder.
    if grep -qF "$fs_root/" "/proc/$pid/cmdline" 2>/dev/null || [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$fs_root"/* ]]; then echo "$pid"; fi
  done
}
while kill -0 "$apphost" 2>/dev/null; do
  for pid in $(ours); do
    [ -r "/proc/$pid/cmdline" ] || continue
    kind=$(kind_of "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)")
    [ -n "$kind" ] || continue
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }                         # fields after the command name
    read -r -a f <<< "$stat"
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    # utime and stime are fields 14 and 15 of stat, 12 and 13 after the name
    printf '%s\t%s\t%s\t%s\n' "$kind" "$pid" "$(( f[11] + f[12] ))" "${hwm:-0}" >> "$samples"
  done
  sleep 1
done
wait "$apphost" && status=0 || status=$?
echo "campaign: $campaign (AppHost exit $status; log $out/apphost.log)"
# The last sample of each process is its total; a kind sums its processes' CPU and takes their largest peak.
awk -F'\t' -v ticks="$ticks" '
  { cpu[$2] = $3; hwm[$2] = ($4 > hwm[$2] ? $4 : hwm[$2]); kind[$2] = $1 }
  END {
    for (p in kind) { k = kind[p]; c[k] += cpu[p] / ticks; if (hwm[p] > m[k]) m[k] = hwm[p]; n[k]++ }
    for (k in c) printf "%-14s %12.1f %14.0f %10d\n", k, c[k], m[k] / 1024, n[k]
  }' "$samples" | sort > "$out/summary.body"
{ printf '%-14s %12s %14s %10s\n' process cpu_seconds peak_rss_mib processes; cat "$out/summary.body"; } | tee "$out/summary.txt"
rm -f "$out/summary.body"
exit "$status"
