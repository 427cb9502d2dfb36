package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/reconcile"
	"github.com/ponte-hub/ponte/internal/store"
)

// reportsShown is how many jobs `ponte reconcile -reports` lists.
const reportsShown = 10

// runReconcile reads stock and prices back from one connection's store (or every enabled
// connection's with "all"), queues corrections for what drifted and prints the stored
// reports as JSON on stdout; logs go to stderr. -dry-run reports drift only; -reports
// CONNECTION lists the connection's last reconciliation jobs instead of running one.
func runReconcile(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ponte reconcile [flags] CONNECTION|all\n       ponte reconcile -reports CONNECTION")
		fs.PrintDefaults()
	}
	dryRun := fs.Bool("dry-run", false, "report drift only: queue nothing, record nothing")
	reports := fs.String("reports", "", fmt.Sprintf("list the last %d reconciliation jobs of `CONNECTION` (runs nothing)", reportsShown))
	data := fs.String("data", envOr("PONTE_DATA", ".ponte"), "embedded store directory (PONTE_DATA)")
	backend := fs.String("backend", envOr("PONTE_BACKEND", "embedded"), "embedded or aws (PONTE_BACKEND)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *reports != "" && fs.NArg() != 0:
		fs.Usage()
		return errors.New("-reports takes the connection itself; name no other")
	case *reports == "" && (fs.NArg() != 1 || fs.Arg(0) == ""):
		fs.Usage()
		return errors.New("name one connection, or all")
	}
	hub, err := openHub(ctx, *backend, *data)
	if err != nil {
		return err
	}
	defer hub.Close()
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")

	if *reports != "" {
		conn, err := hub.Store.GetConnection(ctx, *reports)
		if err != nil {
			return fmt.Errorf("connection %s: %w", *reports, err)
		}
		jobs, err := hub.Reconcile.Reports(ctx, conn.Tenant, conn.ID, reportsShown)
		if err != nil {
			return err
		}
		if jobs == nil {
			jobs = []store.Job{}
		}
		return enc.Encode(jobs)
	}

	svc := *hub.Reconcile
	svc.DryRun = *dryRun
	var reps []reconcile.Report
	if fs.Arg(0) == "all" {
		reps, err = svc.RunAll(ctx)
	} else {
		var rep reconcile.Report
		rep, err = svc.Run(ctx, fs.Arg(0))
		reps = []reconcile.Report{rep}
	}
	if encErr := enc.Encode(app.ReconcileResult{Reports: reps}); encErr != nil {
		return errors.Join(err, encErr)
	}
	return err
}

// openHub opens the hub an ops command works on; logs go to stderr as JSON.
func openHub(ctx context.Context, backend, data string) (*app.Hub, error) {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	switch backend {
	case "embedded":
		return app.OpenEmbedded(ctx, data, log)
	case "aws":
		return app.OpenAWS(ctx, app.AWSConfigFromEnv(), log)
	}
	return nil, fmt.Errorf("-backend: %q is not embedded or aws", backend)
}
