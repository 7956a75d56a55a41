#!/bin/bash
# Peak memory (VmHWM) of a served model (`failuresynth serve teacher`, the same ChatRequest decoding as `serve student`
# and the Student service) while it refuses hostile images in chat requests (docs/security.md): a PNG declaring
# 65,535 x 65,535 pixels, a decompression bomb (64 MiB of zeros behind a 64 x 64 header), and the largest image it decodes
# (1,024 x 1,024, every scanline present). Prints VmHWM after each and stops what it started.
# Usage: bench/security/serve-peak-memory.sh   (after: dotnet build tools/FailureSynth.Cli -c Release)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
dll="$repo/tools/FailureSynth.Cli/bin/Release/net10.0/failuresynth.dll"
[ -f "$dll" ] || { echo "build the CLI first: dotnet build tools/FailureSynth.Cli -c Release" >&2; exit 1; }
work=$(mktemp -d /tmp/failuresynth-serve-peak-XXXXXX)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
FS_SERVE_KEY="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export FS_SERVE_KEY
dotnet "$dll" serve teacher --port 0 --prior-samples 100 --api-key-env FS_SERVE_KEY > "$work/serve.log" 2>&1 & server=$!
for i in $(seq 1 120); do grep -q '^Serving model' "$work/serve.log" && break; kill -0 $server 2>/dev/null || { cat "$work/serve.log"; exit 1; }; sleep 0.5; done
url=$(sed -n "s/^Serving model '\(.*\)' at \(http[^ ]*\) .*/\2/p" "$work/serve.log")
model=$(sed -n "s/^Serving model '\(.*\)' at .*/\1/p" "$work/serve.log")
hwm() { awk '/VmHWM/ {print $2" "$3}' /proc/$server/status; }
echo "serve pid $server: VmHWM after start $(hwm)"

# Request bodies: one judge task (the request that carries an image to the teacher) with the image as a PNG data URI.
python3 - "$work" "$model" <<'PY'
import base64, json, os, struct, sys, zlib
work, model = sys.argv[1], sys.argv[2]
def chunk(kind, data): return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
def png(width, height, raw):
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
task = {"task": "judge", "proposal": {"id": "prop-0123456789abcdef", "question": "How many red cubes are there?", "answer": "2"}}
def body(name, image):
    uri = "data:image/png;base64," + base64.b64encode(image).decode()
    content = [{"type": "image_url", "image_url": {"url": uri}}, {"type": "text", "text": "```json\n" + json.dumps(task) + "\n```"}]
    with open(os.path.join(work, name), "w") as f: json.dump({"model": model, "messages": [{"role": "user", "content": content}]}, f)
body("small.json", png(64, 64, bytes(64 * (64 * 3 + 1))))
body("declares-65535.json", png(65535, 65535, bytes(1 << 20)))
body("bomb.json", png(64, 64, bytes(64 << 20)))
body("largest-1024.json", png(1024, 1024, bytes(1024 * (1024 * 3 + 1))))
PY
ask() { # label, body file
  local code; code=$(curl -s -o "$work/answer" -w '%{http_code}' -H "Authorization: Bearer $FS_SERVE_KEY" -H "Content-Type: application/json" --data-binary @"$work/$2" "$url/chat/completions")
  echo "$1 ($(stat -c %s "$work/$2") B body): HTTP $code $(head -c 220 "$work/answer" | tr '\n' ' ')"
  echo "  VmHWM now $(hwm)"
}
ask "64 x 64 PNG (baseline)" small.json
ask "PNG declaring 65,535 x 65,535" declares-65535.json
ask "decompression bomb: 64 MiB of zeros behind 64 x 64" bomb.json
ask "1,024 x 1,024 PNG, every scanline (largest decoded)" largest-1024.json
echo "serve peak (VmHWM) over the whole run: $(hwm)"
