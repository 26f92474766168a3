// CoreDNS with the plugins that kubeadm's Corefile uses (errors, health, ready, kubernetes,
// prometheus, forward, cache, loop, reload, loadbalance) plus log. The upstream main
// (github.com/coredns/coredns/coredns.go) imports core/plugin, which links every plugin;
// the plugin order stays upstream's (core/dnsserver/zdirectives.go).
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

func main() {
	coremain.Run()
}
