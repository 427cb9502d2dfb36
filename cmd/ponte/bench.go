package main

import (
	"context"
	"flag"
	"os"
	"runtime/pprof"

	"github.com/ponte-hub/ponte/internal/bench"
)

func runBench(ctx context.Context, args []string) error {
	o := bench.Defaults
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&o.Changes, "changes", o.Changes, "stock changes in the burst")
	fs.IntVar(&o.SKUs, "skus", o.SKUs, "distinct SKUs")
	fs.IntVar(&o.Stores, "stores", o.Stores, "simulated stores (one connection each)")
	fs.IntVar(&o.DuplicatePct, "dup-pct", o.DuplicatePct, "share of changes sent twice, in percent")
	fs.IntVar(&o.BatchSize, "batch", o.BatchSize, "changes per POST")
	fs.IntVar(&o.Clients, "clients", o.Clients, "parallel ERP clients in the burst")
	fs.IntVar(&o.PacedChanges, "paced-changes", o.PacedChanges, "changes in the paced (latency) phase; 0 skips it")
	fs.IntVar(&o.PacedRate, "rate", o.PacedRate, "offered changes per second in the paced phase")
	fs.IntVar(&o.StoreRPM, "store-rpm", o.StoreRPM, "each store's rate limit per minute (simulator and connection)")
	fs.StringVar(&o.Platform, "platform", o.Platform, "platform simulator to drive")
	fs.StringVar(&o.DataDir, "data", "", "embedded store directory (default: a temporary one)")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "shuffle seed")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "how long to wait for the stores to settle")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	r, err := bench.Run(ctx, o, os.Stderr)
	if err != nil {
		return err
	}
	r.Print(os.Stdout)
	return nil
}
