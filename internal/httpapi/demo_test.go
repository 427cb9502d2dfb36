package httpapi_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/demo"
	"github.com/ponte-hub/ponte/internal/httpapi"
)

// TestREADMEDemo follows the README: the demo `make run` starts (tenant demo, key
// demo.APIKey, demo-tray-1 and demo-tray-2 on simulated Tray stores), one stock change
// posted with the README's curl, and both stores seen holding it through the SKU view.
func TestREADMEDemo(t *testing.T) {
	ctx := context.Background()
	hub, err := app.OpenEmbedded(ctx, t.TempDir(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hub.Close() })
	d, err := demo.Start(ctx, hub, "127.0.0.1:0", []string{"tray"})
	if err != nil {
		t.Fatalf("start demo: %v", err)
	}
	t.Cleanup(d.Close)
	if len(d.Connections) != 2 || d.Connections[0] != "demo-tray-1" || d.Connections[1] != "demo-tray-2" {
		t.Fatalf("demo connections %v", d.Connections)
	}
	h := hub.API.Handler()
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); hub.RunWorkers(wctx, app.DefaultWorkers) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	rec := serve(h, req{Path: "/v1/erp/changes", Key: demo.APIKey, Body: `{"changes":[{"type":"stock","sku":"DEMO-1","version":2,"quantity":7}]}`})
	if rec.Code != http.StatusAccepted || rec.Body.String() != "{\"accepted\":1,\"duplicates\":0,\"rejected\":[]}\n" {
		t.Fatalf("README post: %d %s", rec.Code, rec.Body)
	}

	// The demo has an operator key: the ERP's key does not open the operator's views.
	if rec := serve(h, req{Method: http.MethodGet, Path: viewPath("demo-tray-1", "DEMO-1"), Key: demo.APIKey}); rec.Code != http.StatusUnauthorized {
		t.Fatalf("the ERP key opened the SKU view: %d", rec.Code)
	}

	// Store 1 sells at the ERP price, store 2 at +10% ending in .90.
	wantPrice := map[string]string{"demo-tray-1": "29.90", "demo-tray-2": "32.90"}
	deadline := time.Now().Add(20 * time.Second)
	for _, conn := range d.Connections {
		var v httpapi.SKUView
		for {
			rec := serve(h, req{Method: http.MethodGet, Path: viewPath(conn, "DEMO-1"), Key: demo.OperatorKey})
			if rec.Code != http.StatusOK {
				t.Fatalf("%s view: %d %s", conn, rec.Code, rec.Body)
			}
			v = decodeBody[httpapi.SKUView](t, rec)
			if v.InSync && v.Platform != nil && v.Platform.Stock != nil && *v.Platform.Stock == 7 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s does not hold stock 7 within 20 s: %+v", conn, v)
			}
			time.Sleep(20 * time.Millisecond)
		}
		want := decimal.RequireFromString(wantPrice[conn])
		if v.Pushed == nil || v.Pushed.Stock == nil || *v.Pushed.Stock != 7 || v.Pushed.PushedAt.IsZero() {
			t.Errorf("%s pushed %+v", conn, v.Pushed)
		}
		if v.Platform.Price == nil || !v.Platform.Price.Amount.Equal(want) {
			t.Errorf("%s store price %+v, want %s", conn, v.Platform.Price, want)
		}
	}
}
