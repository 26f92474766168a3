// webapp: a stand-in for the seed's simple-webapp-mysql. On every GET / it resolves DB_Host
// through the pod's resolver (cluster DNS), opens a TCP connection to port 3306, reads the
// server's handshake and serves a page saying whether it could connect. Listens on :8080.
package main

import (
	"context"
	"fmt"
	"html"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func check(ctx context.Context, host string) (string, error) {
	if host == "" {
		return "", fmt.Errorf("DB_Host is not set")
	}
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		return "", err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(addrs[0], "3306"))
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	hdr := make([]byte, 5)
	if _, err := c.Read(hdr); err != nil {
		return "", fmt.Errorf("no handshake from %s: %w", addrs[0], err)
	}
	if hdr[4] != 10 {
		return "", fmt.Errorf("%s:3306 is not a MySQL server (protocol byte %d)", addrs[0], hdr[4])
	}
	return addrs[0], nil
}

func main() {
	host := os.Getenv("DB_Host")
	user := os.Getenv("DB_User")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		ip, err := check(ctx, host)
		var b strings.Builder
		b.WriteString("<!doctype html><title>simple webapp</title>\n")
		if err != nil {
			log.Printf("GET %s from %s: cannot connect to %q: %v", r.URL.Path, r.RemoteAddr, host, err)
			fmt.Fprintf(&b, "<h1>Failed connecting to the MySQL database.</h1>\n<p>%s</p>\n", html.EscapeString(err.Error()))
		} else {
			log.Printf("GET %s from %s: connected to %s (%s) as %s", r.URL.Path, r.RemoteAddr, host, ip, user)
			fmt.Fprintf(&b, "<h1>Successfully connected to the MySQL database.</h1>\n<p>DB_Host=%s (%s) DB_User=%s</p>\n",
				html.EscapeString(host), ip, html.EscapeString(user))
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(b.String()))
	})
	log.Printf("webapp listening on :8080, DB_Host=%q DB_User=%q", host, user)
	log.Fatal(http.ListenAndServe(":8080", nil))
}
