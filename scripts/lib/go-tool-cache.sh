# Sourced by the scripts that build Go tools (test/cluster/build.sh, deploy/tools/build-helm.sh) and
# the OCI image (deploy/tools/build-oci-image.sh) into netdoctor's cache: one directory per versions
# key, reused when complete, built under a lock into a temp dir that is renamed into place, so an
# interrupted build is never reused.
#
# Env: NETDOCTOR_CACHE (cache root, default $HOME/.cache/netdoctor), NETDOCTOR_REBUILD=1.

# tool_cache_open NAME KEY FILE...
# Prints the cached bin dir and exits when it is complete; otherwise takes the key's lock and
# sets OUT (the final bin dir) and TMP (where to build).
tool_cache_open() {
  TOOL_NAME=$1
  TOOL_KEY=$2
  shift 2
  TOOL_BINS=("$@")
  local root="${NETDOCTOR_CACHE:-$HOME/.cache/netdoctor}"
  OUT="$root/$TOOL_KEY/bin"
  _tool_cache_reuse_if_complete
  mkdir -p "$root/$TOOL_KEY"
  exec 9>"$root/$TOOL_KEY/.lock"
  flock 9
  # Someone else may have finished while we waited for the lock.
  _tool_cache_reuse_if_complete
  # Under the lock nobody else builds this key: temp dirs left here were orphaned by a killed build.
  rm -rf "$root/$TOOL_KEY"/bin.tmp.*
  TMP="$(mktemp -d "$root/$TOOL_KEY/bin.tmp.XXXXXX")"
  trap 'rm -rf "$TMP"' EXIT
}

_tool_cache_reuse_if_complete() {
  [[ "${NETDOCTOR_REBUILD:-}" != 1 && -f "$OUT/.complete" ]] || return 0
  local b
  for b in "${TOOL_BINS[@]}"; do [[ -e "$OUT/$b" ]] || return 0; done
  echo "$TOOL_NAME: reusing $OUT" >&2
  echo "$OUT"
  exit 0
}

# tool_cache_close SUMMARY
# Marks the build complete, moves it into place and prints the bin dir (the last stdout line).
tool_cache_close() {
  echo "$TOOL_KEY $1" > "$TMP/.complete"
  rm -rf "$OUT"
  chmod 755 "$TMP"
  mv "$TMP" "$OUT"
  trap - EXIT
  echo "$TOOL_NAME: done, $1 -> $OUT" >&2
  echo "$OUT"
}

# k8s_version_ldflags VERSION
# The -ldflags of a Kubernetes binary built from the module: stripped and version-stamped
# (unstamped builds report v0.0.0-master, and clients/tools decide behaviour by the version).
k8s_version_ldflags() {
  local v=$1 pkg ldf="-s -w" minor major
  minor="$(echo "$v" | cut -d. -f2)"
  major="$(echo "$v" | cut -d. -f1 | tr -d v)"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ldf+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  echo "$ldf"
}

# go_mod_version GO.MOD MODULE
# The version a wrapper module requires of MODULE (in a require block or a one-line require).
go_mod_version() {
  awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1"
}
