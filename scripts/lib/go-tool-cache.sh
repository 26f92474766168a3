# Sourced by the scripts that build Go tools into netdoctor's cache (test/cluster/build.sh,
# deploy/tools/build-helm.sh): one directory per versions key, reused when complete, built under
# a lock into a temp dir that is renamed into place, so an interrupted build is never reused.
#
# Env: NETDOCTOR_CACHE (cache root, default $HOME/.cache/netdoctor), NETDOCTOR_REBUILD=1.

# tool_cache_open NAME KEY BIN...
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
  TMP="$(mktemp -d "$root/$TOOL_KEY/bin.tmp.XXXXXX")"
  trap 'rm -rf "$TMP"' EXIT
}

_tool_cache_reuse_if_complete() {
  [[ "${NETDOCTOR_REBUILD:-}" != 1 && -f "$OUT/.complete" ]] || return 0
  local b
  for b in "${TOOL_BINS[@]}"; do [[ -x "$OUT/$b" ]] || return 0; done
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
