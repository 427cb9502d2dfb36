package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/demo"
)

// TestServeMetrics pushes one change through the demo's simulated Tray stores and
// scrapes /metrics from the server's handler: push latency samples, push calls per
// connection and queue gauges are there, and the API is still served beside it.
func TestServeMetrics(t *testing.T) {
	ctx := context.Background()
	hub, err := app.OpenEmbedded(ctx, t.TempDir(), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hub.Close() })
	d, err := demo.Start(ctx, hub, "127.0.0.1:0", []string{"tray"})
	if err != nil {
		t.Fatalf("start demo: %v", err)
	}
	t.Cleanup(d.Close)
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); hub.RunWorkers(wctx, app.DefaultWorkers) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	srv := httptest.NewServer(serveHandler(hub))
	t.Cleanup(srv.Close)

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/erp/changes",
		strings.NewReader(`{"changes":[{"type":"stock","sku":"DEMO-1","version":2,"quantity":7}]}`))
	req.Header.Set("Authorization", "Bearer "+demo.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("post change through the serve handler: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, conn := range d.Connections {
		for {
			p, err := hub.Store.GetPushed(ctx, demo.Tenant, conn, "DEMO-1")
			if err == nil && p.Stock != nil && *p.Stock == 7 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never got stock 7", conn)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	resp, err = http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Every push so far (the demo seed and the change) answered within a minute.
	count := sample(t, text, `ponte_push_latency_seconds_count{platform="tray"}`)
	if count < 2 || sample(t, text, `ponte_push_latency_seconds_bucket{platform="tray",le="60"}`) != count {
		t.Errorf("push latency: count %v\n%s", count, text)
	}
	for _, conn := range d.Connections {
		if sample(t, text, `ponte_push_calls_total{platform="tray",connection="`+conn+`"}`) < 1 {
			t.Errorf("no push calls for %s", conn)
		}
	}
	for _, q := range []string{"changes", "push-tray", "orders"} {
		if sample(t, text, `ponte_queue_dead{queue="`+q+`"}`) != 0 {
			t.Errorf("dead letters on %s:\n%s", q, text)
		}
		sample(t, text, `ponte_queue_waiting{queue="`+q+`"}`)
	}
	if strings.Contains(text, "DEMO-1") {
		t.Error("a SKU leaked into the metric labels")
	}
}

// sample returns the value of one exposition line, failing when it is missing.
func sample(t *testing.T, text, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no %s in:\n%s", series, text)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
