// cp: `cp [-f] SRC DST` for the flannel-cni-plugin image's init container, which copies the
// plugin binary to the host's CNI bin dir (the upstream image uses busybox's cp). Keeps the mode.
package main

import (
	"fmt"
	"io"
	"os"
)

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	_ = os.Remove(dst) // -f: replace a busy or read-only target
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "-f" {
		args = args[1:]
	}
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: cp [-f] SRC DST")
		os.Exit(1)
	}
	if err := copyFile(args[0], args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "cp:", err)
		os.Exit(1)
	}
}
