#!/bin/bash
# Container health check: GET http://127.0.0.1:PORT/PATH and succeed only on HTTP 200.
# Bash's /dev/tcp needs no curl or wget, which the .NET runtime images do not contain.
# Usage: failuresynth-healthcheck [PORT] [PATH]   (defaults: $ASPNETCORE_HTTP_PORTS or 8080, /health)
set -u
port="${1:-${ASPNETCORE_HTTP_PORTS:-8080}}"
path="${2:-/health}"
exec 3<>"/dev/tcp/127.0.0.1/${port%%[;,]*}" || exit 1
printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
IFS= read -r -t 3 status <&3 || exit 1
exec 3<&-
case "$status" in
  "HTTP/1."?" 200 "*) exit 0 ;;
  *) echo "health check: ${status:-no reply} from 127.0.0.1:${port}${path}" >&2; exit 1 ;;
esac
