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
)

// runReconcile reads stock and prices back from one connection's store (or every enabled
// connection's with "all"), queues corrections for what drifted and prints the reports
// as JSON on stdout; logs go to stderr. -dry-run reports drift only.
func runReconcile(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ponte reconcile [flags] CONNECTION|all")
		fs.PrintDefaults()
	}
	dryRun := fs.Bool("dry-run", false, "report drift only: queue nothing, record nothing")
	data := fs.String("data", envOr("PONTE_DATA", ".ponte"), "embedded store directory (PONTE_DATA)")
	backend := fs.String("backend", envOr("PONTE_BACKEND", "embedded"), "embedded or aws (PONTE_BACKEND)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		fs.Usage()
		return errors.New("name one connection, or all")
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	var (
		hub *app.Hub
		err error
	)
	switch *backend {
	case "embedded":
		hub, err = app.OpenEmbedded(ctx, *data, log)
	case "aws":
		hub, err = app.OpenAWS(ctx, app.AWSConfigFromEnv(), log)
	default:
		return fmt.Errorf("-backend: %q is not embedded or aws", *backend)
	}
	if err != nil {
		return err
	}
	defer hub.Close()

	svc := *hub.Reconcile
	svc.DryRun = *dryRun
	var reports []reconcile.Report
	if fs.Arg(0) == "all" {
		reports, err = svc.RunAll(ctx)
	} else {
		var rep reconcile.Report
		rep, err = svc.Run(ctx, fs.Arg(0))
		reports = []reconcile.Report{rep}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if encErr := enc.Encode(app.ReconcileResult{Reports: reports}); encErr != nil {
		return errors.Join(err, encErr)
	}
	return err
}
