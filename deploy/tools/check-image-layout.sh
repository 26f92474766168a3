#!/usr/bin/env bash
# Runs netdoctor's image without a container engine: the OCI archive deploy/tools/build-oci-image.sh
# writes (the layout of deploy/Dockerfile's runtime stage), checked as an OCI image layout and then
# run as its config says, in its own root filesystem: the entrypoint (tini, then node) as the
# config's User with only the config's Env, from its WorkingDir, in a chroot of the unpacked layer
# (its own PID namespace, so tini is PID 1). Nothing from this machine is visible in there, so a
# run proves the packaged runtime is self-contained; the files are root's and read-only to the
# process, so it also catches a write outside /tmp, a devDependency imported at run time, a file
# the image forgets. test/integration/deploy/image.test.ts runs it and compares the layout with
# the Dockerfile.
#
# Usage: deploy/tools/check-image-layout.sh [ARCHIVE [SCENARIO_DIR]]
#   ARCHIVE: default, built or reused by build-oci-image.sh
#   SCENARIO_DIR: default ../shared/scenarios/triton-kube-proxy-config (copied into the image's /tmp)
# Needs root (unshare --root), jq.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ $(id -u) == 0 ]] || { echo "check-image-layout.sh: needs root (unshare --root)" >&2; exit 2; }
ARCHIVE="${1:-$("$ROOT/deploy/tools/build-oci-image.sh" | tail -n 1)/netdoctor.tar}"
SCENARIO="${2:-${NETDOCTOR_SHARED:-$ROOT/../shared}/scenarios/triton-kube-proxy-config}"

WORK="$(mktemp -d /tmp/netdoctor-image.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# The OCI image layout: every descriptor's digest and size match its blob, the config's diff_ids
# name the (uncompressed) layers.
tar -xf "$ARCHIVE" -C "$WORK"
blob() { echo "$WORK/blobs/sha256/${1#sha256:}"; }
verify() { # DESCRIPTOR_JSON
  local digest size f
  digest="$(jq -r .digest <<<"$1")" size="$(jq -r .size <<<"$1")" f="$(blob "$digest")"
  [[ -f $f && "sha256:$(sha256sum "$f" | cut -d' ' -f1)" == "$digest" && $(stat -c %s "$f") == "$size" ]] ||
    bad "blob $digest: missing, or its digest or size differs from the descriptor"
}
[[ $(jq -r .imageLayoutVersion "$WORK/oci-layout") == 1.0.0 ]] || bad "oci-layout: imageLayoutVersion is not 1.0.0"
manifest_desc="$(jq -c '.manifests[0]' "$WORK/index.json")"
verify "$manifest_desc"
manifest="$(blob "$(jq -r .digest <<<"$manifest_desc")")"
verify "$(jq -c .config "$manifest")"
config="$(blob "$(jq -r .config.digest "$manifest")")"
mapfile -t layers < <(jq -c '.layers[]' "$manifest")
for l in "${layers[@]}"; do verify "$l"; done
[[ "$(jq -c '[.layers[].digest]' "$manifest")" == "$(jq -c .rootfs.diff_ids "$config")" ]] || bad "config diff_ids differ from the manifest's layers"
((fail == 0)) && ok "OCI layout: $(jq -r '.manifests[0].annotations["io.containerd.image.name"]' "$WORK/index.json"), ${#layers[@]} layer(s), digests and sizes match"

RFS="$WORK/rootfs"
mkdir "$RFS"
for l in "${layers[@]}"; do tar -xf "$(blob "$(jq -r .digest <<<"$l")")" -C "$RFS"; done
mapfile -t ENTRYPOINT < <(jq -r '.config.Entrypoint[]' "$config")
mapfile -t ENV < <(jq -r '.config.Env[]' "$config")
USER_ID="$(jq -r .config.User "$config")"
WORKDIR="$(jq -r .config.WorkingDir "$config")"
rm -rf "$WORK/blobs"
in_image() { # ARGV...: runs ARGV in the image's root, as the image's user, with only its Env
  env -i "${ENV[@]}" unshare --pid --fork --root="$RFS" --wd="$WORKDIR" --setuid "${USER_ID%%:*}" --setgid "${USER_ID##*:}" "$@"
}
run() { in_image "${ENTRYPOINT[@]}" "$@"; }

node_version="$(in_image /usr/local/bin/node --version)" && ok "runtime: node $node_version (the image's own, with its libraries)" || bad "runtime: node does not start in the image"
run checks >/dev/null && ok "netdoctor checks" || bad "netdoctor checks"
if [[ -d "$SCENARIO" ]]; then
  ns="$(awk '$1 == "namespace:" { print $2; exit }' "$SCENARIO/expect.yaml")"
  cp -r "$SCENARIO" "$RFS/tmp/scenario"
  # diagnose exits 0 (healthy) or non-zero by verdict; a crash prints a stack instead of a report.
  out="$(run diagnose "$ns" --from /tmp/scenario --output json || true)"
  # Pattern matches, not `echo | grep -q`/`| head`: under pipefail a reader that exits early fails the pipeline.
  if [[ $out == *'"apiVersion": "netdoctor.report/v1"'* ]]; then ok "netdoctor diagnose $ns --from $(basename "$SCENARIO")"; else bad "diagnose: ${out:0:2000}"; fi
fi
# serve without credentials must fail with a configuration message, not a missing module.
msg="$(run serve 2>&1 || true)"
if [[ $msg == *SLACK_* ]]; then ok "netdoctor serve (refuses to start without Slack credentials)"; else bad "serve: ${msg:0:2000}"; fi
du -sh "$RFS/app/node_modules" | awk '{ print "info production node_modules: " $1 }'
exit $fail
