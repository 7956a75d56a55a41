#!/usr/bin/env bash
# Installs the operating-system packages FailureSynth needs, when they are missing.
# As root it uses apt-get; otherwise it prints the exact command to run and fails.
# Usage: eng/install-prereqs.sh [--with-torch] [--with-browser] [--with-deploy]
#   --with-deploy: docker-compose (validates deploy/compose.yaml offline) and, for eng/build-images.sh --local,
#   podman, buildah and debootstrap. kubectl (with kustomize) is not a Debian package here: see docs/deploy.md.
set -euo pipefail

packages=(rabbitmq-server redis-server libopenblas0 pngcheck)
for arg in "$@"; do
  case "$arg" in
    --with-torch) packages+=(python3-torch) ;;
    --with-browser) packages+=(chromium) ;;
    --with-deploy) packages+=(docker-compose podman buildah debootstrap) ;;
    *) echo "install-prereqs: unknown option '$arg' (known: --with-torch, --with-browser, --with-deploy)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "FailureSynth needs these OS packages, which are missing: ${missing[*]}" >&2
  echo "Install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "Installing OS packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The broker and cache are started by the AppHost (DCP) on free loopback ports; do not let the
# packages' own service units start system-wide instances.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "Installed: ${missing[*]}"
