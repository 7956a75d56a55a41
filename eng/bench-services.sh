#!/usr/bin/env bash
# Synthesis throughput through the services against the same work in-process, in one run of the AppHost
# (docs/throughput.md). Starts the system through the AppHost (`bench-synthesis`), which sends a warm-up of 200 and
# then N proposals through teacher -> imagesynth -> qualityfilter -> trainer, then the same in the trainer's process.
# Meanwhile it samples every process of this checkout: CPU seconds (utime + stime from /proc/PID/stat) during the
# services phase, and peak resident memory (VmHWM, the kernel's own high-water mark).
#
#   eng/bench-services.sh --proposals N --out DIR [--replicas NAME=N ...] [--work-ms MS] [--batch N] [--window N]
#                         [--warmup N] [--write-dataset] [--trace-sampling SHARE]
#
#   --proposals N       proposals per measured run (spread over 16 skills; default 4000)
#   --out DIR           writes DIR/bench.json, DIR/rss.svg (memory over time; and DIR/apphost.log, DIR/samples.tsv)
#   --replicas NAME=N   replicas of teacher, imagesynth or qualityfilter (repeatable)
#   --work-ms MS        fixed CPU milliseconds per sample in rendering and again in checking (a busy loop standing
#                       in for an image model or an LLM judge); also paid in-process. Default 0.
#   --batch N           proposals per message (default: the trainer's Synthesis:BatchSize, 32)
#   --window N          proposals per request (one skill and seed; default 256); at most 16 requests are out at a time
#   --warmup N          proposals sent through each mode, unmeasured, before it is measured (default: up to 200);
#                       a large one measures the steady state, after the JIT has optimised the hot code of every process
#   --write-dataset     also write each mode's accepted samples as a dataset and compare the two manifest.json
#   --trace-sampling S  share of traces the services record and export (FailureSynth:TraceSampling, 0 < S <= 1);
#                       default: every trace, as Aspire runs them (the dashboard then ingests one per message)
#
# The AppHost listens on FS_BENCH_PORT (default 17180) and the two ports after it, not on its launch profile's
# ports, so a bench can run beside a system started with `dotnet run --project FailureSynth.AppHost`.
# Needs a built AppHost and services: dotnet build FailureSynth.AppHost -c Release.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$fs_root"
fs_require_dotnet

usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; }
proposals=4000 out="" work_ms=0 batch="" window="" warmup="" write=false sampling=""
apphost_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --proposals) proposals="${2:?--proposals needs a number}"; shift 2 ;;
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    --replicas) apphost_args+=(--replicas "${2:?--replicas needs NAME=N}"); shift 2 ;;
    --work-ms) work_ms="${2:?--work-ms needs milliseconds}"; shift 2 ;;
    --batch) batch="${2:?--batch needs a number}"; shift 2 ;;
    --window) window="${2:?--window needs a number}"; shift 2 ;;
    --warmup) warmup="${2:?--warmup needs a number}"; shift 2 ;;
    --write-dataset) write=true; shift ;;
    --trace-sampling) sampling="${2:?--trace-sampling needs a share}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-services: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || { echo "bench-services: --out DIR is required" >&2; exit 2; }
[[ "$proposals" =~ ^[0-9]+$ ]] || { echo "bench-services: --proposals must be a whole number (got '$proposals')" >&2; exit 2; }
[[ "$work_ms" =~ ^[0-9]+$ ]] || { echo "bench-services: --work-ms must be a whole number of milliseconds (got '$work_ms')" >&2; exit 2; }
[ "$work_ms" = 0 ] || apphost_args+=(--work-ms "$work_ms")
[ -z "$batch" ] || apphost_args+=(--batch "$batch")
[ -z "$window" ] || apphost_args+=(--window "$window")
if [ -n "$warmup" ]; then
  [[ "$warmup" =~ ^[0-9]+$ ]] || { echo "bench-services: --warmup must be a whole number of proposals (got '$warmup')" >&2; exit 2; }
  apphost_args+=(--warmup "$warmup")
fi
[ "$write" = false ] || apphost_args+=(--write-dataset)
if [ -n "$sampling" ]; then
  awk -v s="$sampling" 'BEGIN { exit !(s ~ /^[0-9]*\.?[0-9]+([eE]-?[0-9]+)?$/ && s + 0 > 0 && s + 0 <= 1) }' ||
    { echo "bench-services: --trace-sampling must be a number above 0 and at most 1 (got '$sampling')" >&2; exit 2; }
  export FailureSynth__TraceSampling="$sampling"
fi
out="$(realpath -m "$out")"
mkdir -p "$out"
samples="$out/samples.tsv" log="$out/apphost.log"
: > "$samples"
ticks=$(getconf CLK_TCK)
port="${FS_BENCH_PORT:-17180}"

# The phase each sample belongs to, from what the AppHost printed so far: 1 while the services are measured
# (from the start of their warm-up to their result), 2 while the in-process run is (its warm-up and its run, in the
# trainer), 3 after.
phase() {
  if grep -q '^\[bench\] in-process:' "$log" 2>/dev/null; then echo 3
  elif grep -q '^\[bench\] services:' "$log" 2>/dev/null; then echo 2
  elif grep -q '^\[bench\] synthesis of' "$log" 2>/dev/null; then echo 1
  else echo 0; fi
}

ASPNETCORE_URLS="http://localhost:$port" ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL="http://localhost:$((port + 1))" \
ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL="http://localhost:$((port + 2))" ASPIRE_ALLOW_UNSECURED_TRANSPORT=true \
DOTNET_ENVIRONMENT=Development ASPNETCORE_ENVIRONMENT=Development \
  dotnet run --project FailureSynth.AppHost -c Release --no-build --no-launch-profile -- \
  bench-synthesis --proposals "$proposals" --run-dir "$out/.apphost" "${apphost_args[@]}" > "$log" 2>&1 &
apphost=$!
trap 'kill "$apphost" 2>/dev/null || true' INT TERM
while kill -0 "$apphost" 2>/dev/null; do
  fs_sample_processes "$samples" "$(phase)" "$fs_root" "$out"
  sleep 0.5
done
wait "$apphost" && status=0 || status=$?
# DCP stops the services after the AppHost has exited: wait for them (up to a minute), so that the next bench does
# not start beside this one's processes.
for _ in $(seq 120); do
  left=0
  for pid in $(fs_processes_in "$fs_root" "$out"); do
    [ -n "$(fs_process_kind "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)")" ] && left=$((left + 1))
  done
  [ "$left" = 0 ] && break
  sleep 0.5
done
"$fs_root/eng/rss-chart.sh" "$samples" "$out/rss.svg" "Resident memory, $proposals proposals ($(date -u +%F))" || true
[ "$status" = 0 ] || { echo "bench-services: the AppHost exited with $status; see $log" >&2; tail -20 "$log" >&2; exit "$status"; }

figure() { # samples/s of a mode from the AppHost's output
  sed -n "s/^\[bench\] $1: \([0-9]*\) proposals .* = \([0-9.]*\) samples\/s$/\2/p" "$log" | tail -1
}
services=$(figure services) local=$(figure in-process)
[ -n "$services" ] && [ -n "$local" ] || { echo "bench-services: no figures in $log" >&2; exit 1; }
checked=$(sed -n 's/^\[bench\] services: \([0-9]*\) proposals .*/\1/p' "$log" | tail -1)
manifest=$(sed -n 's/^\[bench\] datasets: services and in-process manifests \([A-Za-z]*\).*/\1/p' "$log" | tail -1)
case "$manifest" in equal) manifest_equal=true ;; DIFFER) manifest_equal=false ;; *) manifest_equal=null ;; esac
layout=$(sed -n 's/^\[bench\] synthesis of [0-9]* proposals (\(.*\)); each mode warmed up first with [0-9]*$/\1/p' "$log" | tail -1)
warmed=$(sed -n 's/^\[bench\] synthesis of [0-9]* proposals (.*); each mode warmed up first with \([0-9]*\)$/\1/p' "$log" | tail -1)

# Per kind: CPU seconds during phase 1 and during phase 2 (per process, the last tick count of the phase minus the
# last one before it, summed), the largest peak RSS of its processes over the whole run, and how many it had.
processes=$(awk -F'\t' -v ticks="$ticks" '
  { kind[$3] = $2; if ($5 > hwm[$3]) hwm[$3] = $5; t[$3, $1] = $4; if (!(($3, $1) in t0)) t0[$3, $1] = $4 }
  function spent(p, ph,   start) {
    if (!((p, ph) in t)) return 0
    start = ((p, ph - 1) in t) ? t[p, ph - 1] : t0[p, ph]
    return (t[p, ph] - start) / ticks
  }
  END {
    for (p in kind) { k = kind[p]; c1[k] += spent(p, 1); c2[k] += spent(p, 2); if (hwm[p] > m[k]) m[k] = hwm[p]; n[k]++ }
    sep = ""
    for (k in n) { printf "%s    \"%s\": { \"peak_rss_mb\": %.1f, \"cpu_s_services_phase\": %.2f, \"cpu_s_in_process_phase\": %.2f, \"processes\": %d }", sep, k, m[k] / 1024, c1[k], c2[k], n[k]; sep = ",\n" }
    printf "\n"
  }' "$samples")
ratio=$(awk -v s="$services" -v l="$local" 'BEGIN { printf "%.3f", s / l }')
cat > "$out/bench.json" <<EOF
{
  "benchmark": "synthesis-services",
  "proposals": $proposals,
  "checked": ${checked:-0},
  "layout": "$layout",
  "work_ms": $work_ms,
  "batch": "${batch:-default}",
  "window": "${window:-default}",
  "warm_up": ${warmed:-null},
  "trace_sampling": ${sampling:-1},
  "manifest_equal": $manifest_equal,
  "processor_count": $(nproc),
  "samples_per_s_services": $services,
  "samples_per_s_in_process": $local,
  "ratio": $ratio,
  "processes": {
$processes  }
}
EOF
grep '^\[bench\]' "$log"
echo "ratio services / in-process: $ratio"
cat "$out/bench.json"
