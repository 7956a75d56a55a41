#!/bin/bash
# Peak memory (VmHWM) of the real Trainer process while it refuses oversized campaigns (docs/security.md).
# Starts a private epmd, RabbitMQ node and Redis on loopback, the Trainer (Release build) beside them, sends the
# requests, prints VmHWM before and after each, and stops everything it started.
# Usage: bench/security/trainer-peak-memory.sh   (after: dotnet build services/FailureSynth.Trainer -c Release)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
dll="$repo/services/FailureSynth.Trainer/bin/Release/net10.0/FailureSynth.Trainer.dll"
[ -f "$dll" ] || { echo "build the Trainer first: dotnet build services/FailureSynth.Trainer -c Release" >&2; exit 1; }
work=$(mktemp -d /tmp/failuresynth-peak-XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
epmd_port=$(free_port); amqp=$(free_port); dist=$(free_port); redis_port=$(free_port); http=$(free_port)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 1; for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/rabbit/mnesia" "$work/rabbit/log" "$work/data"
# rabbitmq-server started as root drops to the rabbitmq user, which must be able to write its folders.
chmod -R a+rwX "$work"
printf 'default_user = guest\ndefault_pass = guest\nlisteners.tcp.default = 127.0.0.1:%s\nloopback_users = none\n' "$amqp" > "$work/rabbit/rabbitmq.conf"
echo '[].' > "$work/rabbit/enabled_plugins"; : > "$work/rabbit/rabbitmq-env.conf"
epmd -port "$epmd_port" -address 127.0.0.1 & pids+=($!)
HOME="$work/rabbit" ERL_EPMD_PORT=$epmd_port RABBITMQ_NODENAME=fspeak$$@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$amqp \
  RABBITMQ_DIST_PORT=$dist RABBITMQ_MNESIA_BASE="$work/rabbit/mnesia" RABBITMQ_LOG_BASE="$work/rabbit/log" RABBITMQ_CONFIG_FILE="$work/rabbit/rabbitmq.conf" \
  RABBITMQ_ENABLED_PLUGINS_FILE="$work/rabbit/enabled_plugins" RABBITMQ_CONF_ENV_FILE="$work/rabbit/rabbitmq-env.conf" \
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
  setsid rabbitmq-server > "$work/rabbit.log" 2>&1 & pids+=($!)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no > "$work/redis.log" 2>&1 & pids+=($!)
for i in $(seq 1 240); do (exec 3<>/dev/tcp/127.0.0.1/$amqp) 2>/dev/null && break; sleep 1; done

ConnectionStrings__messaging="amqp://guest:guest@127.0.0.1:$amqp/" ConnectionStrings__cache="127.0.0.1:$redis_port" \
  FailureSynth__DataRoot="$work/data" FailureSynth__ApiKey=peak-memory-key-0123456789 ASPNETCORE_URLS="http://127.0.0.1:$http" \
  dotnet "$dll" > "$work/trainer.log" 2>&1 & trainer=$!; pids+=($trainer)
for i in $(seq 1 180); do kill -0 $trainer 2>/dev/null || { tail -20 "$work/trainer.log"; exit 1; }; curl -s -o /dev/null "http://127.0.0.1:$http/alive" && break; sleep 1; done
hwm() { awk '/VmHWM/ {print $2" "$3}' /proc/$trainer/status; }
key=(-H "X-Api-Key: peak-memory-key-0123456789" -H "Content-Type: application/yaml")
echo "trainer pid $trainer: VmHWM after start $(hwm), VmRSS $(awk '/VmRSS/ {print $2" "$3}' /proc/$trainer/status)"

ask() { # label, curl arguments...
  local label=$1; shift
  local code; code=$(curl -s -o "$work/answer" -w '%{http_code}' "$@")
  echo "$label: HTTP $code $(head -c 200 "$work/answer" | tr '\n' ' ')"
  echo "  VmHWM now $(hwm)"
}
ask "campaign asking budget.samples 2,000,000,000" "${key[@]}" --data-binary $'name: big\nbudget: { samples: 2000000000, failures: 2000000000 }\npool: { count: 2000000000 }\n' "http://127.0.0.1:$http/campaigns"
ask "campaign over the server limits (budget.samples 150,000, pool.count 900,000)" "${key[@]}" --data-binary $'name: big\nprescription: retrieve\nbudget: { samples: 150000 }\npool: { count: 900000 }\n' "http://127.0.0.1:$http/campaigns"
head -c 50000000 /dev/zero | tr '\0' 'a' > "$work/big.yaml"
ask "50 MB body with Content-Length" "${key[@]}" --data-binary @"$work/big.yaml" "http://127.0.0.1:$http/campaigns"
ask "50 MB body, chunked" "${key[@]}" -H "Transfer-Encoding: chunked" --data-binary @"$work/big.yaml" "http://127.0.0.1:$http/campaigns"
echo "trainer peak (VmHWM) over the whole run: $(hwm)"
