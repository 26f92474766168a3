#!/usr/bin/env bash
# oci-image.sh OUT.tar NAME ROOTFS_DIR ENTRYPOINT...
# Writes ROOTFS_DIR as a one-layer OCI image archive named NAME (e.g. netdoctor.local/pause:3.10),
# importable with `ctr -n k8s.io images import OUT.tar`. The layer is an uncompressed,
# reproducible tar (sorted, mtime 0, uid/gid 0): no registry is reachable, so images are built here.
# OCI_CONFIG (optional): a JSON object merged into the image config (User, WorkingDir, Cmd,
# ExposedPorts, Labels, Env; an Env given there replaces the default PATH-only one).
set -euo pipefail
out=$1 name=$2 rootfs=$3
shift 3
extra=${OCI_CONFIG:-"{}"}
entrypoint=$(printf '%s\n' "$@" | jq -R . | jq -sc .)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/blobs/sha256"
blob() { # FILE -> prints "sha256:<hex> <size>", moves FILE into blobs/
  local hex size
  hex=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  mv "$1" "$work/blobs/sha256/$hex"
  echo "sha256:$hex $size"
}

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$work/layer" .
read -r layer_digest layer_size < <(blob "$work/layer")

jq -nc --argjson ep "$entrypoint" --arg diff "$layer_digest" --argjson extra "$extra" '{
  architecture: "amd64", os: "linux",
  config: ({Entrypoint: $ep, Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]} + $extra),
  rootfs: {type: "layers", diff_ids: [$diff]}
}' > "$work/config"
read -r config_digest config_size < <(blob "$work/config")

jq -nc --arg cd "$config_digest" --argjson cs "$config_size" --arg ld "$layer_digest" --argjson ls "$layer_size" '{
  schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
  layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $ld, size: $ls}]
}' > "$work/manifest"
read -r manifest_digest manifest_size < <(blob "$work/manifest")

jq -nc --arg md "$manifest_digest" --argjson ms "$manifest_size" --arg name "$name" '{
  schemaVersion: 2,
  manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $md, size: $ms,
    annotations: {"io.containerd.image.name": $name, "org.opencontainers.image.ref.name": ($name | sub(".*:"; ""))}}]
}' > "$work/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$work/oci-layout"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work" -cf "$out" oci-layout index.json blobs
