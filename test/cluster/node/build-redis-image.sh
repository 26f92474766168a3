#!/usr/bin/env bash
# Builds (or reuses) the Redis image the chart's bundled Redis runs on the real node
# (test/node/in-cluster.test.ts): redis:7.2-alpine cannot be pulled here, so this machine's Debian
# redis-server and redis-cli (the chart's probes) with the libraries ldd lists, as a one-layer OCI
# archive (oci-image.sh) named netdoctor.local/redis:<Debian version>. No shell, no users but
# root: the chart runs it as 10002 and mounts /data and /tmp.
#
# Output: ${NETDOCTOR_CACHE:-$HOME/.cache/netdoctor}/redis-image-<version>-<hash>/bin/redis.tar,
# the dir printed as the LAST line on stdout. Needs root, jq, redis-server and redis-tools installed.
set -euo pipefail
umask 022
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
# shellcheck source=../../../scripts/lib/go-tool-cache.sh
. "$ROOT/scripts/lib/go-tool-cache.sh"
# shellcheck source=../../../scripts/lib/rootfs.sh
. "$ROOT/scripts/lib/rootfs.sh"

[[ $(id -u) == 0 ]] || { echo "build-redis-image.sh: needs root (the image's files are owned by root)" >&2; exit 2; }
VERSION="$(dpkg-query -W -f '${Version}' redis-server 2>/dev/null || true)"
[[ -n $VERSION ]] && command -v redis-cli >/dev/null || { echo "build-redis-image.sh: apt-get install redis-server redis-tools" >&2; exit 2; }
# Debian's epoch and revision are not a tag: 5:7.0.15-1~deb12u10 -> 7.0.15-1-deb12u10.
TAG="$(sed -e 's/^[0-9]*://' -e 's/[^A-Za-z0-9_.-]/-/g' <<<"$VERSION")"
NAME="netdoctor.local/redis:$TAG"
HASH="$(sha256sum "$0" "$ROOT/test/cluster/node/oci-image.sh" "$ROOT/scripts/lib/rootfs.sh" "$(readlink -f /usr/bin/redis-server)" /usr/bin/redis-cli | sha256sum | cut -c1-12)"

tool_cache_open build-redis-image.sh "redis-image-$TAG-$HASH" redis.tar
RFS="$TMP/rootfs"
mkdir -p "$RFS/data" "$RFS/tmp" "$RFS/etc"
chmod 1777 "$RFS/tmp"
# Debian's redis-server is a link to redis-check-rdb, which acts by the name it is run as.
install -D "$(readlink -f /usr/bin/redis-server)" "$RFS/usr/bin/redis-server"
install -D /usr/bin/redis-cli "$RFS/usr/bin/redis-cli"
copy_libs "$RFS" "$RFS/usr/bin/redis-server" "$RFS/usr/bin/redis-cli"
printf '%s\n' 'root:x:0:0:root:/root:/usr/sbin/nologin' > "$RFS/etc/passwd"
printf '%s\n' 'root:x:0:' > "$RFS/etc/group"
touch "$RFS/etc/resolv.conf" "$RFS/etc/hosts"
OCI_CONFIG='{"WorkingDir":"/data","ExposedPorts":{"6379/tcp":{}}}' \
  "$ROOT/test/cluster/node/oci-image.sh" "$TMP/redis.tar" "$NAME" "$RFS" /usr/bin/redis-server
rm -rf "$RFS"
echo "$NAME" > "$TMP/name"
tool_cache_close "$NAME, $(du -m "$TMP/redis.tar" | cut -f1) MB"
