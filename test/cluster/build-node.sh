#!/usr/bin/env bash
# Builds (or reuses) what the node mode of the test cluster runs (test/cluster/node.ts):
#   kubelet, kube-proxy      from the control plane's wrapper module go/k8s (same Kubernetes version)
#   flanneld                 from go/flannel (github.com/flannel-io/flannel)
#   flannel (CNI plugin)     from go/cni (github.com/containernetworking/plugins v0.9.x)
#   coredns                  from go/coredns (github.com/coredns/coredns, kubeadm's plugins)
#   pause, webapp, mysql     from go/apps
# and the OCI image archives the node imports into containerd (images/*.tar): no registry is
# reachable, so every image is written here from these binaries (node/oci-image.sh).
#
# Output: ${NETDOCTOR_CACHE:-$HOME/.cache/netdoctor}/node-<versions>-<source hash>/bin, printed as
# the LAST line on stdout (progress on stderr). Reuse, locking and env as in build.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GO_DIR="$HERE/go"
# shellcheck source=../../scripts/lib/go-tool-cache.sh
. "$HERE/../../scripts/lib/go-tool-cache.sh"
# shellcheck source=../../scripts/lib/rootfs.sh
. "$HERE/../../scripts/lib/rootfs.sh"
K8S_VERSION="$(go_mod_version "$GO_DIR/k8s/go.mod" k8s.io/kubernetes)"
FLANNEL_VERSION="$(go_mod_version "$GO_DIR/flannel/go.mod" github.com/flannel-io/flannel)"
CNI_VERSION="$(go_mod_version "$GO_DIR/cni/go.mod" github.com/containernetworking/plugins)"
COREDNS_VERSION="$(go_mod_version "$GO_DIR/coredns/go.mod" github.com/coredns/coredns)"
[[ -n "$K8S_VERSION" && -n "$FLANNEL_VERSION" && -n "$CNI_VERSION" && -n "$COREDNS_VERSION" ]] ||
  { echo "build-node.sh: cannot read versions from go.mod" >&2; exit 1; }
GO_VERSION="$(GOTOOLCHAIN=local go env GOVERSION)"
# The images carry the host's iptables (kube-proxy and flanneld run it), so its version is part of the key,
# and so are the sources written here.
IPTABLES_VERSION="$(dpkg-query -W -f '${Version}' iptables)"
SRC_HASH="$(cd "$HERE" && cat build-node.sh node/oci-image.sh ../../scripts/lib/rootfs.sh go/*/go.sum go/*/go.mod go/coredns/main.go go/apps/*/main.go |
  sha256sum | cut -c1-12)"

tool_cache_open build-node.sh \
  "node-k8s-${K8S_VERSION}-flannel-${FLANNEL_VERSION}-coredns-${COREDNS_VERSION}-${GO_VERSION}-iptables-${IPTABLES_VERSION}-${SRC_HASH}" \
  kubelet kube-proxy flanneld install-conf flannel coredns pause webapp mysql cp

export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off
COMMON=(-p "${NETDOCTOR_BUILD_JOBS:-2}" -trimpath -mod=readonly)
START=$SECONDS

echo "build-node.sh: building kubelet, kube-proxy $K8S_VERSION ..." >&2
(cd "$GO_DIR/k8s" && go build "${COMMON[@]}" -ldflags "$(k8s_version_ldflags "$K8S_VERSION")" -o "$TMP/" \
  k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy) >&2

# flannel's main.go links every backend; tencentvpc's SDK is not served by the module proxy and
# udp needs cgo, so main.go is built from a copy without those two imports.
echo "build-node.sh: building flanneld $FLANNEL_VERSION ..." >&2
# (`go list -m` names no Dir for a module not yet in the module cache: download it first.)
FLANNEL_SRC="$(cd "$GO_DIR/flannel" && go mod download github.com/flannel-io/flannel &&
  go list -m -f '{{.Dir}}' github.com/flannel-io/flannel)"
mkdir "$TMP/flannel-main"
cp "$GO_DIR/flannel/go.mod" "$GO_DIR/flannel/go.sum" "$TMP/flannel-main/"
sed -e '/pkg\/backend\/tencentvpc"/d' -e '/pkg\/backend\/udp"/d' "$FLANNEL_SRC/main.go" > "$TMP/flannel-main/main.go"
(cd "$TMP/flannel-main" && go build "${COMMON[@]}" \
  -ldflags "-s -w -X github.com/flannel-io/flannel/pkg/version.Version=$FLANNEL_VERSION" -o "$TMP/flanneld" . &&
  go build "${COMMON[@]}" -ldflags "-s -w" -o "$TMP/install-conf" github.com/flannel-io/flannel/cmd/install_conf) >&2
rm -rf "$TMP/flannel-main"

echo "build-node.sh: building the flannel CNI plugin ($CNI_VERSION), coredns $COREDNS_VERSION, apps ..." >&2
(cd "$GO_DIR/cni" && go build "${COMMON[@]}" -ldflags "-s -w" -o "$TMP/flannel" \
  github.com/containernetworking/plugins/plugins/meta/flannel) >&2
(cd "$GO_DIR/coredns" && go build "${COMMON[@]}" -ldflags "-s -w" -o "$TMP/coredns" .) >&2
(cd "$GO_DIR/apps" && go build "${COMMON[@]}" -ldflags "-s -w" -o "$TMP/" ./pause ./webapp ./mysql ./cp) >&2

echo "build-node.sh: writing images ..." >&2
ROOTFS="$(mktemp -d)"
trap 'rm -rf "$TMP" "$ROOTFS"' EXIT
# iptables (nft backend, as on the host) and conntrack for kube-proxy and flanneld; the xtables
# extensions are loaded with dlopen, so they are copied as a directory.
iptables_into() {
  local root=$1 n
  with_libs "$root" /usr/sbin/xtables-nft-multi /usr/sbin/conntrack /usr/lib/x86_64-linux-gnu/xtables/*.so
  # Several extensions are symlinks (e.g. libxt_MASQUERADE.so): copy the directory as it is.
  cp -a /usr/lib/x86_64-linux-gnu/xtables/. "$root/usr/lib/x86_64-linux-gnu/xtables/"
  for n in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    ln -s xtables-nft-multi "$root/usr/sbin/$n"
  done
}
image() { # NAME FILE-IN-ROOTFS:SOURCE... -- ENTRYPOINT...
  local name=$1 dir
  dir="$ROOTFS/$(echo "$name" | tr '/:' '__')"
  shift
  mkdir -p "$dir/tmp" "$dir/etc"
  touch "$dir/etc/resolv.conf" "$dir/etc/hosts"
  while [[ $1 != -- ]]; do install -D "${1#*:}" "$dir/${1%%:*}"; shift; done
  shift
  [[ "$name" == */kube-proxy:* || "$name" == */flannel:* ]] && iptables_into "$dir"
  "$HERE/node/oci-image.sh" "$TMP/images/$(basename "${name%%:*}").tar" "$name" "$dir" "$@"
}
mkdir -p "$TMP/images"
image "netdoctor.local/pause:3.10" pause:"$TMP/pause" -- /pause
image "netdoctor.local/kube-proxy:$K8S_VERSION" usr/local/bin/kube-proxy:"$TMP/kube-proxy" -- /usr/local/bin/kube-proxy
image "netdoctor.local/flannel:$FLANNEL_VERSION" opt/bin/flanneld:"$TMP/flanneld" opt/bin/install-conf:"$TMP/install-conf" -- /opt/bin/flanneld
image "netdoctor.local/flannel-cni-plugin:$CNI_VERSION" flannel:"$TMP/flannel" bin/cp:"$TMP/cp" -- /bin/cp
image "netdoctor.local/coredns:$COREDNS_VERSION" coredns:"$TMP/coredns" -- /coredns
image "netdoctor.local/mysql:5.6-stub" mysql:"$TMP/mysql" -- /mysql
image "netdoctor.local/webapp-mysql:1" webapp:"$TMP/webapp" -- /webapp
rm -rf "$ROOTFS"
trap 'rm -rf "$TMP"' EXIT

"$TMP/kubelet" --version >&2
tool_cache_close "built in $((SECONDS - START))s"
