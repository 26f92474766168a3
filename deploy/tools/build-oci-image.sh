#!/usr/bin/env bash
# Builds (or reuses) netdoctor's image without a container engine: the layout deploy/Dockerfile's
# runtime stage produces, written as a one-layer OCI archive (test/cluster/node/oci-image.sh) that
# `ctr -n k8s.io images import` takes. test/integration/deploy/image.test.ts keeps the two recipes equal.
#
#   /app        package.json, bin/, workflows/, dist/ (tsc), node_modules/ (npm ci --omit=dev
#               --ignore-scripts); owned by root, read-only to the process
#   node        this machine's Node 20 at /usr/local/bin/node (where the node:20 images have it),
#               with the shared libraries ldd lists for it and for every native addon in node_modules
#   tini        Debian's tini-static at /usr/bin/tini
#   fonts       Debian's fonts-dejavu-core (the digest's chart text)
#   /etc        passwd/group with netdoctor (10001:10001, home /tmp, no shell); /tmp 1777
# The base image's Debian userland is not reproduced: nothing in the image runs a shell.
#
# Output: ${NETDOCTOR_CACHE:-$HOME/.cache/netdoctor}/image-<version>-<inputs hash>/bin/netdoctor.tar,
# the dir printed as the LAST line on stdout (progress on stderr); the key covers the sources,
# the lock file, these scripts and the host packages copied in. Needs root (files owned by root),
# jq, and Debian's tini and fonts-dejavu-core installed (.ci/run installs them).
set -euo pipefail
umask 022
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../../scripts/lib/go-tool-cache.sh
. "$ROOT/scripts/lib/go-tool-cache.sh"
# shellcheck source=../../scripts/lib/rootfs.sh
. "$ROOT/scripts/lib/rootfs.sh"

[[ $(id -u) == 0 ]] || { echo "build-oci-image.sh: needs root (the image's files are owned by root)" >&2; exit 2; }
PACKAGES=(fonts-dejavu-core)
HOST_PACKAGES=(tini libc6 libstdc++6 libgcc-s1 "${PACKAGES[@]}")
NODE="$(readlink -f "$(command -v node)")"
NODE_VERSION="$("$NODE" --version)"
[[ $NODE_VERSION == v20.* ]] || { echo "build-oci-image.sh: needs Node 20 (the Dockerfile's node:20), found $NODE_VERSION" >&2; exit 2; }
VERSIONS="$(dpkg-query -W -f '${db:Status-Status} ${Package}=${Version}\n' "${HOST_PACKAGES[@]}" 2>&1 || true)"
[[ $(grep -cv '^installed ' <<<"$VERSIONS") == 0 ]] || { echo "build-oci-image.sh: apt-get install tini ${PACKAGES[*]}" >&2; exit 2; }
VERSION="$(jq -r .version "$ROOT/package.json")"
NAME="netdoctor.local/netdoctor:$VERSION"
INPUTS_HASH="$(cd "$ROOT" && {
  echo "$NODE_VERSION $VERSIONS"
  sha256sum "$NODE" deploy/tools/build-oci-image.sh test/cluster/node/oci-image.sh scripts/lib/rootfs.sh \
    package.json package-lock.json tsconfig.json tsconfig.build.json
  find src bin workflows -type f -print0 | sort -z | xargs -0 sha256sum
} | sha256sum | cut -c1-12)"

tool_cache_open build-oci-image.sh "image-$VERSION-$INPUTS_HASH" netdoctor.tar
START=$SECONDS
RFS="$TMP/rootfs"
APP="$RFS/app"
mkdir -p "$APP" "$RFS/etc" "$RFS/tmp"
chmod 1777 "$RFS/tmp"

echo "build-oci-image.sh: npm ci --omit=dev, tsc ..." >&2
cp "$ROOT/package.json" "$ROOT/package-lock.json" "$APP/"
(cd "$APP" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
rm "$APP/package-lock.json" # the runtime stage copies node_modules and package.json, not the lock
(cd "$ROOT" && npx tsc -p tsconfig.build.json --outDir "$APP/dist") >&2
cp -r "$ROOT/bin" "$ROOT/workflows" "$APP/"

install -D "$NODE" "$RFS/usr/local/bin/node"
mapfile -t addons < <(find "$APP/node_modules" -name '*.node' -type f)
copy_libs "$RFS" "$NODE" "${addons[@]}"
install -D /usr/bin/tini-static "$RFS/usr/bin/tini"
copy_packages "$RFS" "${PACKAGES[@]}"
printf '%s\n' 'root:x:0:0:root:/root:/usr/sbin/nologin' 'netdoctor:x:10001:10001::/tmp:/usr/sbin/nologin' > "$RFS/etc/passwd"
printf '%s\n' 'root:x:0:' 'netdoctor:x:10001:' > "$RFS/etc/group"
printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' > "$RFS/etc/nsswitch.conf"
# Mount points the runtime binds its own files onto.
touch "$RFS/etc/resolv.conf" "$RFS/etc/hosts"
chmod -R go-w "$APP"

echo "build-oci-image.sh: writing $NAME ..." >&2
OCI_CONFIG="$(jq -nc --arg node "${NODE_VERSION#v}" '{
  User: "10001:10001",
  WorkingDir: "/app",
  Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NODE_VERSION=\($node)",
    "NODE_ENV=production", "HOME=/tmp", "NODE_OPTIONS=--enable-source-maps"],
  Cmd: ["serve"],
  ExposedPorts: {"3000/tcp": {}, "9090/tcp": {}, "8080/tcp": {}},
  Labels: {
    "org.opencontainers.image.title": "netdoctor",
    "org.opencontainers.image.description": "Finds and fixes Kubernetes networking faults from Slack and the terminal",
    "org.opencontainers.image.licenses": "Apache-2.0"
  }
}')" "$ROOT/test/cluster/node/oci-image.sh" "$TMP/netdoctor.tar" "$NAME" "$RFS" /usr/bin/tini -- node bin/netdoctor.js
rm -rf "$RFS"
tool_cache_close "$NAME, $(du -m "$TMP/netdoctor.tar" | cut -f1) MB, built in $((SECONDS - START))s"
