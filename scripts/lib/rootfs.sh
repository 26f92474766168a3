# Sourced by the scripts that write image root filesystems from this machine's files
# (test/cluster/build-node.sh, deploy/tools/build-oci-image.sh): no registry is reachable, so
# an image carries the host's binaries with exactly the shared libraries they load.

# copy_libs ROOT FILE...: copies the shared libraries each FILE loads (as ldd resolves them) into ROOT,
# at the path ldd names, as regular files. A FILE this loader cannot load (a musl build of an addon,
# which node never picks here) adds nothing.
copy_libs() {
  local root=$1 f lib
  shift
  for f in "$@"; do
    for lib in $(ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $2 ~ /^\(0x/ { print $1 }'); do
      install -D "$(readlink -f "$lib")" "$root$lib"
    done
  done
}

# with_libs ROOT FILE...: copies each FILE (symlinks resolved) and the shared libraries it loads into ROOT.
with_libs() {
  local root=$1 f
  shift
  for f in "$@"; do
    f="$(readlink -f "$f")"
    install -D "$f" "$root$f"
    copy_libs "$root" "$f"
  done
}

# copy_packages ROOT PACKAGE...: copies the files of installed Debian packages into ROOT, as an
# `apt-get install` of them would lay them out (modes, symlinks and directories as dpkg left them).
copy_packages() {
  local root=$1
  shift
  mkdir -p "$root"
  # dpkg lists "/." first and, for diverted files, lines that are not paths.
  dpkg-query -L "$@" | sed -n 's|^/\(..*\)|\1|p' | sort -u | tar -C / --no-recursion -T - -cf - | tar -C "$root" -xf -
}
