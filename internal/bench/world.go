package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/platform/platformsim"
	"github.com/ponte-hub/ponte/internal/platforms"
)

// world is a whole local hub (embedded store and queues, workers, API on a loopback
// listener) with one simulator's stores seeded with the catalogue: what every scenario
// starts from.
type world struct {
	hub    *app.Hub
	sim    platformsim.Simulator
	rec    *recorder
	stores []benchStore
	// apiURL is the hub's HTTP API base ("http://127.0.0.1:port").
	apiURL  string
	closers []func()
}

// startWorld opens the hub in o.DataDir (a temporary directory when empty), starts the
// simulator and seeds it. before runs after seeding and before the workers start (the
// orders scenario loads ERP stock there). Close must be called even on error.
func startWorld(ctx context.Context, o Options, before func(*world) error) (*world, error) {
	w, err := openWorld(ctx, o, before)
	if err != nil {
		w.Close() // releases whatever was set up before the failure
		return nil, err
	}
	return w, nil
}

func openWorld(ctx context.Context, o Options, before func(*world) error) (*world, error) {
	w := &world{}
	dir := o.DataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "ponte-bench-")
		if err != nil {
			return w, fmt.Errorf("bench data dir: %w", err)
		}
		w.closers = append(w.closers, func() { os.RemoveAll(d) })
		dir = d
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	hub, err := app.OpenEmbedded(ctx, dir, log)
	if err != nil {
		return w, err
	}
	w.hub = hub
	w.closers = append(w.closers, func() { hub.Close() })

	sim, err := platforms.Simulator(o.Platform)
	if err != nil {
		return w, err
	}
	w.sim, w.rec = sim, newRecorder()
	sim.ObserveStock(w.rec.stockWrite)
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		return w, fmt.Errorf("start %s simulator: %w", o.Platform, err)
	}
	w.closers = append(w.closers, sim.Close)
	if w.stores, err = seed(ctx, hub, sim, o); err != nil {
		return w, fmt.Errorf("seed: %w", err)
	}
	if before != nil {
		if err := before(w); err != nil {
			return w, err
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return w, fmt.Errorf("api listener: %w", err)
	}
	srv := &http.Server{Handler: hub.API.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	w.closers = append(w.closers, func() { srv.Close() })
	w.apiURL = "http://" + ln.Addr().String()

	wctx, stopWorkers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); hub.RunWorkers(wctx, app.DefaultWorkers) }()
	w.closers = append(w.closers, func() { stopWorkers(); wg.Wait() })
	return w, nil
}

// Close stops everything in the reverse order of starting.
func (w *world) Close() {
	for i := len(w.closers) - 1; i >= 0; i-- {
		w.closers[i]()
	}
}
