#!/usr/bin/env bash
# The wire path's overhead: one campaign run three ways on this machine, in one go, the same seed each time:
#   embedded  - TinyVLM student and embedded teacher in-process (the default backends);
#   wire      - teacher.backend semantic-kernel -> `failuresynth serve teacher`, student.backend openai -> `failuresynth serve student`;
# and the manifest hash of each, which must be equal. Prints wall-clock seconds and CPU seconds (user + system, of the
# campaign process and, on the wire, of both servers too): on a shared machine only the CPU seconds compare, since
# the wire run's three processes get a different share of a loaded CPU than the embedded run's one.
# Usage: bench/wire/overhead.sh [campaign.yaml] [out-dir]   (default: bench/wire/small.yaml, out/wire-overhead)
# The campaign must name student.checkpoint (a served student is a fixed checkpoint) and have iterations: 1.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
config="${1:-bench/wire/small.yaml}"
out="${2:-out/wire-overhead}"
cli="tools/FailureSynth.Cli/bin/Release/net10.0/failuresynth.dll"
dotnet build tools/FailureSynth.Cli -c Release -nologo -clp:ErrorsOnly -v:q
mkdir -p "$out"
checkpoint="$(sed -n 's/^ *checkpoint: *//p' "$config" | head -1)"
if [ ! -f "$checkpoint" ]; then
  # The checkpoint the campaign names: trained once by a campaign without one (its base student), then reused.
  sed '/checkpoint:/d' "$config" > "$out/base.yaml"
  dotnet "$cli" campaign run --config "$out/base.yaml" --out "$out/base" > "$out/base.log"
  mkdir -p "$(dirname "$checkpoint")"
  cp "$out/base/base.safetensors" "$checkpoint"
fi
prior="$(sed -n 's/.*prior_samples: *\([0-9]*\).*/\1/p' "$config" | head -1)"
prior="${prior:-30000}"

rm -rf "$out/embedded" "$out/wire"
TIMEFORMAT='%R %U %S'
{ time dotnet "$cli" campaign run --config "$config" --out "$out/embedded" > "$out/embedded.log"; } 2> "$out/embedded.time"

# The servers require an API key (docs/security.md): one for this run, passed by variable name, never on a command line.
FS_SERVE_KEY="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export FS_SERVE_KEY
dotnet "$cli" serve teacher --port 0 --prior-samples "$prior" --api-key-env FS_SERVE_KEY > "$out/teacher.log" 2>&1 & teacher_pid=$!
dotnet "$cli" serve student --port 0 --model "$checkpoint" --api-key-env FS_SERVE_KEY > "$out/student.log" 2>&1 & student_pid=$!
trap 'kill $teacher_pid $student_pid 2>/dev/null || true' EXIT
for log in teacher student; do
  for _ in $(seq 1 120); do grep -q "^Serving model" "$out/$log.log" && break; sleep 0.5; done
done
teacher_url=$(sed -n "s/^Serving model '\(.*\)' at \(http[^ ]*\) .*/\2/p" "$out/teacher.log")
teacher_model=$(sed -n "s/^Serving model '\(.*\)' at .*/\1/p" "$out/teacher.log")
student_url=$(sed -n "s/^Serving model '\(.*\)' at \(http[^ ]*\) .*/\2/p" "$out/student.log")
student_model=$(sed -n "s/^Serving model '\(.*\)' at .*/\1/p" "$out/student.log")
sed -e "s|^teacher: *{\(.*\)}|teacher: {\1, backend: semantic-kernel, endpoint: '$teacher_url', model: '$teacher_model', api_key_env: FS_SERVE_KEY}|" \
    -e "s|^\( *\)checkpoint: \(.*\)|\1checkpoint: \2\n\1backend: openai\n\1endpoint: '$student_url'\n\1model: '$student_model'\n\1api_key_env: FS_SERVE_KEY|" "$config" > "$out/wire.yaml"
{ time dotnet "$cli" campaign run --config "$out/wire.yaml" --out "$out/wire" > "$out/wire.log"; } 2> "$out/wire.time"
# CPU seconds of the servers so far (utime + stime in clock ticks, fields 14 and 15 of /proc/PID/stat).
ticks=$(getconf CLK_TCK)
servers=$(awk -v t="$ticks" '{ s += ($14 + $15) / t } END { print s }' "/proc/$teacher_pid/stat" "/proc/$student_pid/stat")

hash() { sed -n 's/.*manifest \([0-9a-f]\{64\}\).*/\1/p' "$1"; }
read -r ew eu es < "$out/embedded.time"
read -r ww wu ws < "$out/wire.time"
printf 'embedded: %.1f s wall, %.1f s CPU (campaign)  manifest %s\n' "$ew" "$(awk "BEGIN{print $eu + $es}")" "$(hash "$out/embedded.log")"
printf 'wire:     %.1f s wall, %.1f s CPU (campaign %.1f + servers %.1f)  manifest %s\n' "$ww" "$(awk "BEGIN{print $wu + $ws + $servers}")" "$(awk "BEGIN{print $wu + $ws}")" "$servers" "$(hash "$out/wire.log")"
grep '^Test accuracy' "$out/embedded.log" "$out/wire.log"
grep '^Teacher ' "$out/wire.log" || true
