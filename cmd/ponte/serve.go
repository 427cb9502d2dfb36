package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/demo"
	"github.com/ponte-hub/ponte/internal/platforms"
)

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", envOr("PONTE_ADDR", "127.0.0.1:8080"), "listen address (PONTE_ADDR)")
	data := fs.String("data", envOr("PONTE_DATA", ".ponte"), "embedded store directory (PONTE_DATA)")
	backend := fs.String("backend", envOr("PONTE_BACKEND", "embedded"), "embedded or aws (PONTE_BACKEND)")
	config := fs.String("config", os.Getenv("PONTE_CONFIG"), "setup file with tenants, connections, secrets, mappings (PONTE_CONFIG); none starts the demo")
	simAddr := fs.String("demo-sim-addr", envOr("PONTE_DEMO_SIM_ADDR", "127.0.0.1:8081"), "where the demo's first simulator listens")
	demoPlatforms := fs.String("demo-platforms", envOr("PONTE_DEMO_PLATFORMS", "tray"), "comma-separated platforms the demo simulates ("+strings.Join(platforms.Names(), ", ")+")")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := app.Logger()
	// Bad limits stop the start before anything is opened.
	limits, err := app.HTTPLimitsFromEnv()
	if err != nil {
		return err
	}
	var hub *app.Hub
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

	if *config != "" {
		setup, err := app.LoadSetup(*config)
		if err != nil {
			return err
		}
		if err := hub.ApplySetup(ctx, setup); err != nil {
			return fmt.Errorf("apply config: %w", err)
		}
	} else {
		d, err := demo.Start(ctx, hub, *simAddr, strings.Split(*demoPlatforms, ","))
		if err != nil {
			return fmt.Errorf("start demo: %w", err)
		}
		defer d.Close()
		log.Info("demo ready", "tenant", demo.Tenant, "key", demo.APIKey, "operator_key", demo.OperatorKey, "admin", "http://"+*addr+"/admin/", "connections", d.Connections, "simulators", d.Simulators, "skus", demo.SKUs())
	}

	srv, err := app.ListenHTTP(*addr, serveHandler(hub), limits, log)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Add(1)
	go func() { defer wg.Done(); hub.RunWorkers(wctx, app.DefaultWorkers) }()
	wg.Add(1)
	go func() { defer wg.Done(); hub.RunScheduler(wctx, app.DefaultSchedule) }()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	log.Info("ponte serving", "addr", "http://"+srv.Addr().String(), "backend", hub.Backend, "data", *data,
		"read_timeout", limits.ReadTimeout.String(), "write_timeout", limits.WriteTimeout.String(),
		"idle_timeout", limits.IdleTimeout.String(), "max_conns_per_client", limits.MaxConnsPerClient)
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		err = srv.Shutdown(sctx)
	}
	cancel()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// serveHandler is the API plus GET /metrics (Prometheus text, no auth: it names
// platforms, connections and queues, never tenant data). Only the local server has it;
// the Lambdas emit the same metrics as EMF log lines.
func serveHandler(hub *app.Hub) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", hub.Metrics.Handler())
	mux.Handle("/", hub.API.Handler())
	return mux
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
