package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/httpapi"
)

func viewPath(conn, sku string) string { return "/v1/admin/connections/" + conn + "/skus/" + sku }

func (e *env) view(t testing.TB, key, conn, sku string) *httptest.ResponseRecorder {
	t.Helper()
	return e.do(t, req{Method: http.MethodGet, Path: viewPath(conn, sku), Key: key})
}

// runWorkers runs the hub's queue workers until the test ends.
func (e *env) runWorkers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); e.hub.RunWorkers(ctx, app.DefaultWorkers) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func TestSKUViewErrors(t *testing.T) {
	e := newEnv(t)
	unknownConn := e.view(t, keyA, "no-such-conn", "A-1")
	cases := []struct {
		name      string
		key, auth string
		conn, sku string
		status    int
		field     string
	}{
		{name: "no key", conn: connA, sku: "A-1", status: 401, field: "authorization"},
		{name: "wrong key", key: "wrong-key", conn: connA, sku: "A-1", status: 401, field: "authorization"},
		{name: "unknown connection", key: keyA, conn: "no-such-conn", sku: "A-1", status: 404, field: "id"},
		{name: "another tenant's connection", key: keyB, conn: connA, sku: "A-1", status: 404, field: "id"},
		{name: "another tenant's connection, its own SKU name", key: keyA, conn: connB, sku: "B-1", status: 404, field: "id"},
		{name: "SKU neither mapped nor known", key: keyA, conn: connA, sku: "ZZZ", status: 404, field: "sku"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := e.do(t, req{Method: http.MethodGet, Path: viewPath(c.conn, c.sku), Key: c.key, Auth: c.auth})
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			eb := errorBody(t, rec)
			if eb.Field != c.field || eb.Error == "" {
				t.Fatalf("error %+v, want field %q", eb, c.field)
			}
			if c.field == "id" && rec.Body.String() != unknownConn.Body.String() {
				t.Fatalf("another tenant's connection answers %s, unlike an unknown one (%s): it leaks existence", rec.Body, unknownConn.Body)
			}
		})
	}
}

// TestSKUViewAfterPush posts through the API, lets the workers push to the simulated
// store and reads the view: desired state, last pushed state with its time, and the
// value read back from the store now.
func TestSKUViewAfterPush(t *testing.T) {
	e := newEnv(t)

	// Before any change reaches the store: mapped and known, nothing desired or pushed.
	rec := e.view(t, keyA, connA, "A-1")
	if rec.Code != http.StatusOK {
		t.Fatalf("view before: %d %s", rec.Code, rec.Body)
	}
	before := decodeBody[httpapi.SKUView](t, rec)
	if before.Desired != nil || before.Pushed != nil || before.InSync || before.Mapping == nil || before.Mapping.ProductID != "101" {
		t.Fatalf("view before any push: %+v", before)
	}

	e.runWorkers(t)
	posted := time.Now().UTC()
	body := batch(stockItem("A-1", 100, 42), `{"type":"price","sku":"A-1","version":100,"price":"25.90"}`)
	if res := result(t, e.post(t, keyA, body, nil)); res.Accepted != 2 {
		t.Fatalf("post: %+v", res)
	}

	var v httpapi.SKUView
	deadline := time.Now().Add(20 * time.Second)
	for {
		rec := e.view(t, keyA, connA, "A-1")
		if rec.Code != http.StatusOK {
			t.Fatalf("view: %d %s", rec.Code, rec.Body)
		}
		v = decodeBody[httpapi.SKUView](t, rec)
		if v.InSync && v.Pushed != nil && v.Pushed.Stock != nil && *v.Pushed.Stock == 42 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A-1 not pushed within 20 s; last view %+v", v)
		}
		time.Sleep(20 * time.Millisecond)
	}

	if v.ConnectionID != connA || v.SKU != "A-1" {
		t.Errorf("view names %s/%s", v.ConnectionID, v.SKU)
	}
	if v.Desired == nil || v.Desired.Stock == nil || *v.Desired.Stock != 42 || v.Desired.Price == nil || v.Desired.Price.Amount.String() != "25.9" {
		t.Errorf("desired %+v, want stock 42 price 25.90", v.Desired)
	}
	if v.Desired != nil && (v.Desired.Versions.Stock != 100 || v.Desired.Versions.Price != 100) {
		t.Errorf("desired versions %+v, want the ERP's version 100", v.Desired.Versions)
	}
	if p := v.Pushed; p.Price == nil || p.Price.Amount.String() != "25.9" || p.PushedAt.Before(posted) || p.PushedAt.After(time.Now().UTC()) {
		t.Errorf("pushed %+v, want price 25.90 pushed after %s", p, posted)
	}
	if v.PlatformError != "" {
		t.Errorf("platform error %q", v.PlatformError)
	}
	if v.Platform == nil || v.Platform.Stock == nil || *v.Platform.Stock != 42 || v.Platform.Price == nil || !v.Platform.Price.Amount.Equal(v.Pushed.Price.Amount) {
		t.Errorf("read back from the store %+v, want stock 42 and the pushed price", v.Platform)
	}
	if v.Platform != nil && (v.Platform.ProductID != "101" || v.Platform.ReadAt.Before(posted)) {
		t.Errorf("read back %+v: want product 101, read now", v.Platform)
	}
	if p, ok := e.sim.Product("s1", "101"); !ok || p.Stock != 42 {
		t.Errorf("simulated store holds %+v", p)
	}
	// Beta's store got nothing from acme's change.
	if p, ok := e.sim.Product("s2", "201"); !ok || p.Stock != 0 {
		t.Errorf("beta's product 201 changed: %+v", p)
	}
	// And beta's key still cannot look.
	if rec := e.view(t, keyB, connA, "A-1"); rec.Code != http.StatusNotFound {
		t.Errorf("beta reads acme's SKU view: %d %s", rec.Code, rec.Body)
	}
}

// TestSKUViewUnmapped covers a SKU the hub knows that the connection has no mapping for.
func TestSKUViewUnmapped(t *testing.T) {
	e := newEnv(t)
	if res := result(t, e.post(t, keyA, batch(`{"type":"product","sku":"A-7","version":1,"name":"Unmapped"}`), nil)); res.Accepted != 1 {
		t.Fatalf("post: %+v", res)
	}
	// Without a mapping fan-out writes no desired state for it: unknown on this connection.
	if err := e.hub.Fanout.FanOut(context.Background(), "acme", "A-7"); err != nil {
		t.Fatal(err)
	}
	rec := e.view(t, keyA, connA, "A-7")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if eb := errorBody(t, rec); eb.Field != "sku" {
		t.Fatalf("error %+v", eb)
	}
}
