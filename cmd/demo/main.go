// Command demo runs cxloop end to end on the nature-park sample journey,
// offline: a local kube-apiserver and etcd (envtest), a local GitHub and the
// cxloop manager, all in one process. It tells the story of the improvement
// loop as it happens — the map is scored, Discovery opens an issue per gap,
// the product owner fixes the map, Improve opens the quick wins, they are
// closed on GitHub, and Perfection starts — and exits.
//
// Run it with `make demo`, which prepares kube-apiserver and etcd:
//
//	make demo                      # the story, then exit
//	go run ./cmd/demo --keep       # (with KUBEBUILDER_ASSETS set) stay up afterwards
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	o := defaultOptions()
	// A flag set of its own: controller-runtime registers --kubeconfig on
	// the default one, which the demo does not use.
	fs := flag.NewFlagSet("demo", flag.ExitOnError)
	fs.StringVar(&o.StatusAddr, "status-addr", o.StatusAddr, "Address of cxloop's status page for leadership (a free port is used if it is taken).")
	fs.BoolVar(&o.Keep, "keep", false, "Keep everything running after the story, until Ctrl-C, to explore the status page, the local GitHub and kubectl.")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "Bound on the whole story; the demo fails if it does not finish in time.")
	fs.BoolVar(&o.Verbose, "v", false, "Show cxloop's logs on standard error.")
	_ = fs.Parse(os.Args[1:])

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, o); err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "demo: interrupted")
		} else {
			fmt.Fprintln(os.Stderr, "demo failed:", err)
		}
		stop()
		os.Exit(1)
	}
}

// defaultOptions are the options of `make demo`.
func defaultOptions() options {
	return options{
		StatusAddr:       "127.0.0.1:8090",
		Timeout:          3 * time.Minute,
		StepTimeout:      60 * time.Second,
		MaxOpenQuickWins: 2,
		SyncInterval:     30 * time.Second,
	}
}
