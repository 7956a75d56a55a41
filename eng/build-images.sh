#!/usr/bin/env bash
# Builds the five service images, tagged failuresynth-<service>:<tag> (student, teacher, imagesynth,
# qualityfilter, trainer), from the one Containerfile (deploy/Containerfile) with --build-arg SERVICE=<Service>.
#
#   eng/build-images.sh [--tag TAG] [SERVICE...]            the Containerfile as shipped: .NET SDK build stage,
#                                                           mcr.microsoft.com/dotnet/aspnet runtime (needs a registry)
#   eng/build-images.sh --local [--tag TAG] [SERVICE...]    no registry needed: the same runtime stage on a base this
#                                                           script makes (Debian bookworm from debootstrap plus the
#                                                           host's .NET runtime, laid out as in the aspnet image), with
#                                                           the application published here by `dotnet publish`
#
# Environment: CONTAINER_TOOL (podman by default; docker works for the registry mode), DEBIAN_MIRROR (the local
# base's apt mirror; by default the first deb.debian.org-style URI of this machine's apt sources), NICE (10).
# The local mode needs root (debootstrap), podman or buildah, and the .NET SDK. It caches the base in out/images/.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$fs_root"

all_services=(student teacher imagesynth qualityfilter trainer)
declare -A project=([student]=Student [teacher]=Teacher [imagesynth]=ImageSynth [qualityfilter]=QualityFilter [trainer]=Trainer)

tag=latest local=false services=()
while [ $# -gt 0 ]; do
  case "$1" in
    --local) local=true ;;
    --tag) tag="${2:?--tag needs a value}"; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "build-images: unknown option '$1' (known: --local, --tag TAG, --help)" >&2; exit 2 ;;
    *) [ -n "${project[$1]:-}" ] || { echo "build-images: unknown service '$1' (known: ${all_services[*]})" >&2; exit 2; }
       services+=("$1") ;;
  esac
  shift
done
[ ${#services[@]} -gt 0 ] || services=("${all_services[@]}")
tool="${CONTAINER_TOOL:-podman}"
nice_level="${NICE:-10}"
command -v "$tool" >/dev/null || { echo "build-images: '$tool' is not installed (set CONTAINER_TOOL, or install podman)" >&2; exit 1; }

file=deploy/Containerfile

if [ "$local" = false ]; then
  for s in "${services[@]}"; do
    echo "== failuresynth-$s:$tag"
    # --format docker keeps HEALTHCHECK (the OCI image format has no field for it).
    nice -n "$nice_level" "$tool" build --format docker -f "$file" --build-arg "SERVICE=${project[$s]}" -t "failuresynth-$s:$tag" .
  done
  exit 0
fi

# ---- local mode -------------------------------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || { echo "build-images --local needs root (debootstrap and chroot)." >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "build-images --local needs debootstrap (apt-get install debootstrap)." >&2; exit 1; }
fs_require_dotnet
work="$fs_root/out/images"
rootfs="$work/base-rootfs"
base_image="localhost/failuresynth-base:bookworm"
# What the runtime images' os-packages block installs, plus what .NET itself needs (the aspnet image's set
# without ICU: the services run with InvariantGlobalization).
base_packages=(ca-certificates libc6 libgcc-s1 libssl3 libstdc++6 tzdata zlib1g libopenblas0)
mkdir -p "$work"

mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
  [ -n "$mirror" ] || mirror=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  mirror="${mirror:-http://deb.debian.org/debian}"
fi

runtime_version=$(dotnet --list-runtimes | awk '$1=="Microsoft.AspNetCore.App" && $2 ~ /^10\./ {v=$2} END {print v}')
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
[ -n "$runtime_version" ] || { echo "build-images: no Microsoft.AspNetCore.App 10.x runtime in $dotnet_root" >&2; exit 1; }
stamp="bookworm ${base_packages[*]} aspnet $runtime_version"

if [ ! -f "$rootfs/.failuresynth-base" ] || [ "$(cat "$rootfs/.failuresynth-base")" != "$stamp" ]; then
  echo "== base: debootstrap bookworm from $mirror (${base_packages[*]})"
  rm -rf "$rootfs"
  mkdir -p "$work/debs"
  nice -n "$nice_level" debootstrap --variant=minbase --cache-dir="$work/debs" \
    --include="$(IFS=,; echo "${base_packages[*]}")" bookworm "$rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  # The .NET runtime where the aspnet image has it: /usr/share/dotnet, with /usr/bin/dotnet.
  echo "== base: .NET runtime $runtime_version from $dotnet_root"
  netcore_version=$(dotnet --list-runtimes | awk '$1=="Microsoft.NETCore.App" && $2 ~ /^10\./ {v=$2} END {print v}')
  mkdir -p "$rootfs/usr/share/dotnet/shared"
  cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$rootfs/usr/share/dotnet/"
  cp -a "$dotnet_root"/LICENSE.txt "$dotnet_root"/ThirdPartyNotices.txt "$rootfs/usr/share/dotnet/" 2>/dev/null || true
  for fw in "Microsoft.NETCore.App/$netcore_version" "Microsoft.AspNetCore.App/$runtime_version"; do
    mkdir -p "$rootfs/usr/share/dotnet/shared/$(dirname "$fw")"
    cp -a "$dotnet_root/shared/$fw" "$rootfs/usr/share/dotnet/shared/$fw"
  done
  ln -sf /usr/share/dotnet/dotnet "$rootfs/usr/bin/dotnet"
  # The non-root user of the .NET images: app, uid and gid 1654, home /home/app.
  chroot "$rootfs" groupadd --gid 1654 app
  chroot "$rootfs" useradd --uid 1654 --gid 1654 --no-log-init --create-home --shell /bin/false app
  # Nothing a running service needs: package caches, documentation, locales.
  rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
    "$rootfs"/usr/share/info/* "$rootfs"/var/log/* "$rootfs"/tmp/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
  echo "$stamp" > "$rootfs/.failuresynth-base"
  "$tool" rmi -f "$base_image" >/dev/null 2>&1 || true
fi
if ! "$tool" image exists "$base_image" 2>/dev/null; then
  echo "== base: importing $base_image"
  tar -C "$rootfs" --numeric-owner --exclude=./.failuresynth-base -c . | "$tool" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV APP_UID=1654' --change 'ENV DOTNET_RUNNING_IN_CONTAINER=true' \
    --change "ENV DOTNET_VERSION=$runtime_version" --change "ENV ASPNET_VERSION=$runtime_version" \
    --change 'CMD ["/bin/bash"]' - "$base_image" >/dev/null
fi

for s in "${services[@]}"; do
  name="FailureSynth.${project[$s]}"
  context="$work/context/$s"
  echo "== failuresynth-$s:$tag (local base)"
  rm -rf "$context" && mkdir -p "$context/deploy"
  # Published with the checkout's own build settings: -p:UseAppHost=false here would rebuild bin/Release without the
  # native launcher that `dotnet run` (./run.sh, the AppHost) starts. The image runs `dotnet X.dll`, as the
  # Containerfile's SDK stage publishes it (UseAppHost=false), so the launcher is left out of the context.
  nice -n "$nice_level" dotnet publish "services/$name/$name.csproj" -c Release -o "$context/app" \
    --no-self-contained -nologo -clp:ErrorsOnly -v:q
  rm -f "$context/app/$name"
  cp -a deploy/healthcheck.sh deploy/data-root "$context/deploy/"
  # The packages the os-packages block installs must already be in the base.
  for p in $(sed -n '/# os-packages:begin/,/# os-packages:end/p' "$file" | grep -o 'install -y --no-install-recommends [^&]*' | cut -d' ' -f4-); do
    dpkg-query --admindir="$rootfs/var/lib/dpkg" -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
      || { echo "build-images: $file installs $p, which the local base lacks: add it to base_packages" >&2; exit 1; }
  done
  # The Containerfile's runtime stage, unchanged but for its base, the block above and where /app comes from.
  awk -v base="$base_image" '
    /^FROM .* AS runtime$/ { print "FROM " base; on = 1; next }
    !on { next }
    /# os-packages:begin/ { skip = 1; next }
    /# os-packages:end/ { skip = 0; next }
    skip { next }
    /^COPY --from=build \/out\/ \/app\/$/ { print "COPY app/ /app/"; next }
    { print }' "$file" > "$context/Containerfile"
  grep -q '^COPY app/ /app/$' "$context/Containerfile" || { echo "build-images: $file has no 'COPY --from=build /out/ /app/' in its runtime stage" >&2; exit 1; }
  nice -n "$nice_level" "$tool" build --format docker -f "$context/Containerfile" --build-arg "SERVICE=${project[$s]}" -t "failuresynth-$s:$tag" "$context"
done
"$tool" images --filter reference='failuresynth-*' --format '{{.Repository}}:{{.Tag}} {{.Size}}'
