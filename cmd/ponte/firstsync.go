package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/ponte-hub/ponte/internal/catalog"
	"github.com/ponte-hub/ponte/internal/store"
)

// runFirstSync imports one connection's store catalogue and links it to the ERP's
// products (see internal/catalog), in the foreground, and prints the finished job with
// its report as JSON. A run interrupted (Ctrl-C, a crash) resumes from its last page at
// the next start. -reports lists the connection's last runs instead.
func runFirstSync(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("first-sync", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ponte first-sync [flags] CONNECTION")
		fs.PrintDefaults()
	}
	reports := fs.Bool("reports", false, fmt.Sprintf("list the connection's last %d first syncs (runs nothing)", reportsShown))
	data := fs.String("data", envOr("PONTE_DATA", ".ponte"), "embedded store directory (PONTE_DATA)")
	backend := fs.String("backend", envOr("PONTE_BACKEND", "embedded"), "embedded or aws (PONTE_BACKEND)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		fs.Usage()
		return errors.New("name one connection")
	}
	hub, err := openHub(ctx, *backend, *data)
	if err != nil {
		return err
	}
	defer hub.Close()
	conn, err := hub.Store.GetConnection(ctx, fs.Arg(0))
	if err != nil {
		return fmt.Errorf("connection %s: %w", fs.Arg(0), err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if *reports {
		jobs, err := hub.FirstSync.Jobs(ctx, conn.Tenant, conn.ID, reportsShown)
		if err != nil {
			return err
		}
		if jobs == nil {
			jobs = []store.Job{}
		}
		return enc.Encode(jobs)
	}
	job, err := hub.FirstSync.Start(ctx, conn.Tenant, conn.ID)
	if err != nil {
		return err
	}
	job, runErr := hub.FirstSync.Run(ctx, job)
	rep, err := catalog.ParseReport(job)
	if err != nil {
		return errors.Join(runErr, err)
	}
	if err := enc.Encode(struct {
		Job    string         `json:"job"`
		Status string         `json:"status"`
		Done   int            `json:"done"`
		Report catalog.Report `json:"report"`
	}{job.ID, job.Status, job.Done, rep}); err != nil {
		return err
	}
	return runErr
}
