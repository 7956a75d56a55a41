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

# --- Process sampling, shared by eng/bench-services.sh and eng/measure-resources.sh ---

# The process kind from a command line (NUL bytes turned into spaces), or nothing for a process that is not ours.
fs_process_kind() {
  case "$1" in
    *FailureSynth.Student.dll*|*FailureSynth.Student\ *) echo student ;;
    *FailureSynth.Teacher.dll*|*FailureSynth.Teacher\ *) echo teacher ;;
    *FailureSynth.ImageSynth.dll*|*FailureSynth.ImageSynth\ *) echo imagesynth ;;
    *FailureSynth.QualityFilter.dll*|*FailureSynth.QualityFilter\ *) echo qualityfilter ;;
    *FailureSynth.Trainer.dll*|*FailureSynth.Trainer\ *) echo trainer ;;
    *FailureSynth.AppHost.dll*|*FailureSynth.AppHost\ *) echo apphost ;;
    *beam.smp*) echo rabbitmq ;;
    *redis-server*) echo redis ;;
    *Aspire.Dashboard*) echo dashboard ;;
    */dcp\ *) echo dcp ;;
  esac
}

# The PIDs whose command line names one of the folders given, or that run inside one (Redis names no path in its
# command line, but runs in its data folder). Only processes of this checkout and run count: other runs on the same
# machine are not ours, and DCP starts the services, so they are not all the AppHost's children.
# The Aspire dashboard names neither (it runs in its package's folder): it counts when its parent (DCP) is ours.
fs_processes_in() {
  local pid cwd dir parent
  local -A ours=()
  for pid in /proc/[0-9]*; do
    pid=${pid#/proc/}
    cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null)" || continue
    for dir in "$@"; do
      if [[ "$cwd" == "$dir"/* ]] || grep -qF "$dir/" "/proc/$pid/cmdline" 2>/dev/null; then ours[$pid]=1; echo "$pid"; break; fi
    done
  done
  for pid in $(pgrep -f Aspire.Dashboard 2>/dev/null); do
    parent=$(awk '/^PPid:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
    [ -n "$parent" ] && [ -n "${ours[$parent]:-}" ] && [ -z "${ours[$pid]:-}" ] && echo "$pid"
  done
  return 0
}

# Appends one line per process of ours to FILE: TAG, kind, PID, CPU ticks so far (utime + stime, fields 14 and 15 of
# /proc/PID/stat), peak resident memory in KiB (VmHWM, the kernel's own high-water mark, so sampling misses no peak),
# resident memory now in KiB (VmRSS) and the time of the sample (seconds since the epoch, to the millisecond).
#   fs_sample_processes FILE TAG FOLDER...
fs_sample_processes() {
  local file="$1" tag="$2" pid kind stat hwm rss now
  shift 2
  local -a f
  now=$(date +%s.%3N)
  for pid in $(fs_processes_in "$@"); do
    [ -r "/proc/$pid/cmdline" ] || continue
    kind=$(fs_process_kind "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)")
    [ -n "$kind" ] || continue
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }                         # fields after the command name: utime and stime are 12 and 13 of these
    read -r -a f <<< "$stat"
    read -r hwm rss < <(awk '/^VmHWM:/ {h = $2} /^VmRSS:/ {r = $2} END {print h + 0, r + 0}' "/proc/$pid/status" 2>/dev/null || echo 0 0)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tag" "$kind" "$pid" "$(( f[11] + f[12] ))" "${hwm:-0}" "${rss:-0}" "$now" >> "$file"
  done
}
