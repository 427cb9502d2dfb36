package main

import (
	"context"
	"flag"
	"fmt"
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
	scenario := fs.String("scenario", "stock", "stock (ERP changes to stores) or orders (store webhooks to the hub)")
	oo := bench.OrdersDefaults
	fs.IntVar(&oo.Orders, "orders", oo.Orders, "orders scenario: distinct orders placed")
	fs.IntVar(&oo.OutOfOrderPct, "ooo-pct", oo.OutOfOrderPct, "orders scenario: share of orders whose update is posted first, in percent")
	fs.Int64Var(&oo.Stock, "stock", oo.Stock, "orders scenario: every SKU's ERP stock")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *scenario != "stock" && *scenario != "orders" {
		return fmt.Errorf("bench: unknown scenario %q (stock, orders)", *scenario)
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
	if *scenario == "orders" {
		return runOrdersBench(ctx, fs, o, oo)
	}
	r, err := bench.Run(ctx, o, os.Stderr)
	if err != nil {
		return err
	}
	r.Print(os.Stdout)
	return nil
}

// runOrdersBench runs the orders scenario. Flags shared with the stock scenario keep the
// orders defaults (fewer SKUs, more duplicates) unless given on the command line.
func runOrdersBench(ctx context.Context, fs *flag.FlagSet, o bench.Options, oo bench.OrdersOptions) error {
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "skus":
			oo.SKUs = o.SKUs
		case "stores":
			oo.Stores = o.Stores
		case "dup-pct":
			oo.DuplicatePct = o.DuplicatePct
		case "clients":
			oo.Clients = o.Clients
		case "store-rpm":
			oo.StoreRPM = o.StoreRPM
		case "seed":
			oo.Seed = o.Seed
		case "timeout":
			oo.Timeout = o.Timeout
		}
	})
	oo.Platform, oo.DataDir = o.Platform, o.DataDir
	r, err := bench.RunOrders(ctx, oo, os.Stderr)
	if err != nil {
		return fmt.Errorf("bench orders: %w", err)
	}
	r.Print(os.Stdout)
	if err := r.Check(); err != nil {
		return fmt.Errorf("bench orders: %w", err)
	}
	return nil
}
