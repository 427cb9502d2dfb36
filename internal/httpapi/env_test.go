package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/httpapi"
	"github.com/ponte-hub/ponte/internal/ingest"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
)

// Two tenants, each with one Tray connection on its own simulated store.
const (
	keyA  = "acme-erp-key-0000000000001"
	keyB  = "beta-erp-key-0000000000001"
	connA = "acme-tray-1"
	connB = "beta-tray-1"
)

// env is a hub on the embedded backend with the real HTTP handler in front of it.
type env struct {
	hub *app.Hub
	h   http.Handler
	sim *traysim.Server
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEnv seeds tenants acme (SKUs A-1 -> product 101, A-2 -> 102 on store s1) and beta
// (B-1 -> 201 on store s2), each SKU known by a version-1 product change.
func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	hub, err := app.OpenEmbedded(ctx, t.TempDir(), quietLogger())
	if err != nil {
		t.Fatalf("open embedded hub: %v", err)
	}
	t.Cleanup(func() { _ = hub.Close() })
	sim := traysim.New(traysim.Options{})
	base, err := sim.Start(":0")
	if err != nil {
		t.Fatalf("start traysim: %v", err)
	}
	t.Cleanup(sim.Close)

	setup := app.Setup{
		Tenants: []app.TenantSetup{
			{ID: "acme", Name: "Acme", APIKey: keyA, Currency: "BRL"},
			{ID: "beta", Name: "Beta", APIKey: keyB, Currency: "BRL"},
		},
		Secrets: map[string]map[string]string{},
	}
	stores := []struct {
		conn, tenant, store string
		products            map[string]string // sku -> product id
	}{
		{connA, "acme", "s1", map[string]string{"A-1": "101", "A-2": "102"}},
		{connB, "beta", "s2", map[string]string{"B-1": "201"}},
	}
	for i, s := range stores {
		cfg := traysim.StoreConfig{ConsumerKey: "ck-" + s.store, ConsumerSecret: "cs-" + s.store, Code: "code-" + s.store}
		sim.AddStore(s.store, cfg)
		setup.Connections = append(setup.Connections, domain.Connection{
			ID: s.conn, Tenant: s.tenant, Platform: "tray", Enabled: true, SecretRef: s.conn, Currency: "BRL",
			Settings: map[string]string{
				"api_address": traysim.APIAddress(base, s.store), "store_id": strconv.Itoa(i + 1),
				"rate_limit_per_min": "600",
			},
		})
		setup.Secrets[s.conn] = map[string]string{"consumer_key": cfg.ConsumerKey, "consumer_secret": cfg.ConsumerSecret, "code": cfg.Code}
		for sku, pid := range s.products {
			sim.AddProduct(s.store, pid, 0, decimal.Zero)
			setup.Mappings = append(setup.Mappings, domain.Mapping{ConnectionID: s.conn, SKU: sku, ProductID: pid})
		}
	}
	if err := hub.ApplySetup(ctx, setup); err != nil {
		t.Fatalf("apply setup: %v", err)
	}
	for tenant, skus := range map[string][]string{"acme": {"A-1", "A-2"}, "beta": {"B-1"}} {
		var changes []ingest.Change
		for _, sku := range skus {
			changes = append(changes, ingest.Change{Kind: ingest.KindProduct, SKU: sku, Version: 1,
				Product: &domain.Product{SKU: sku, Name: "Product " + sku, Publish: true, SyncStock: true, Version: 1}})
		}
		if _, err := hub.Ingest.Apply(ctx, tenant, changes); err != nil {
			t.Fatalf("seed %s: %v", tenant, err)
		}
	}
	return &env{hub: hub, h: hub.API.Handler(), sim: sim}
}

// req describes one HTTP call; Auth is sent verbatim when set, else "Bearer "+Key when Key is set.
type req struct {
	Method, Path string
	Key, Auth    string
	Body         string
	Header       map[string]string
}

func (e *env) do(t testing.TB, r req) *httptest.ResponseRecorder {
	t.Helper()
	return serve(e.h, r)
}

func serve(h http.Handler, r req) *httptest.ResponseRecorder {
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	hr := httptest.NewRequest(method, r.Path, strings.NewReader(r.Body))
	switch {
	case r.Auth != "":
		hr.Header.Set("Authorization", r.Auth)
	case r.Key != "":
		hr.Header.Set("Authorization", "Bearer "+r.Key)
	}
	if r.Body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.Header {
		hr.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, hr)
	return rec
}

// post sends a batch for a tenant key.
func (e *env) post(t testing.TB, key, body string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	return e.do(t, req{Path: "/v1/erp/changes", Key: key, Body: body, Header: header})
}

func decodeBody[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json (status %d, body %s)", ct, rec.Code, rec.Body)
	}
	dec := json.NewDecoder(strings.NewReader(rec.Body.String()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %T from %q: %v", v, rec.Body.String(), err)
	}
	return v
}

func errorBody(t testing.TB, rec *httptest.ResponseRecorder) httpapi.ErrorBody {
	t.Helper()
	return decodeBody[httpapi.ErrorBody](t, rec)
}

func result(t testing.TB, rec *httptest.ResponseRecorder) ingest.Result {
	t.Helper()
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d, want 202; body %s", rec.Code, rec.Body)
	}
	return decodeBody[ingest.Result](t, rec)
}

// sku reads a tenant's SKU aggregate straight from the store.
func (e *env) sku(t testing.TB, tenant, sku string) (domain.SKUState, bool) {
	t.Helper()
	states, err := e.hub.Store.GetSKUs(context.Background(), tenant, []string{sku})
	if err != nil {
		t.Fatalf("read SKU %s/%s: %v", tenant, sku, err)
	}
	st, ok := states[sku]
	return st, ok
}

func batch(items ...string) string { return `{"changes":[` + strings.Join(items, ",") + `]}` }
