package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/httpapi"
	"github.com/ponte-hub/ponte/internal/ingest"
)

const opKeyB = "beta-operator-key-0001"

// withOperatorKey gives a tenant its own operator key, as a setup's operator_key does.
func (e *env) withOperatorKey(t testing.TB, tenant, key string) {
	t.Helper()
	ctx := context.Background()
	tn, err := e.hub.Store.GetTenant(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	tn.OperatorKeyHash = e.hub.Keys.Hash(key)
	if err := e.hub.Store.PutTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
}

func TestOperatorKeyOpensOnlyItsTenantsViews(t *testing.T) {
	e := newEnv(t)
	e.deadPush(t, 5) // acme has a failure
	e.withOperatorKey(t, "beta", opKeyB)
	cases := []struct {
		name, method, path, key string
		status                  int
		field                   string
	}{
		{"beta's operator key opens beta's views", http.MethodGet, "/v1/admin/queues", opKeyB, 200, ""},
		{"beta's API key no longer does", http.MethodGet, "/v1/admin/queues", keyB, 401, "authorization"},
		{"the operator key is not an ERP key", http.MethodPost, "/v1/erp/changes", opKeyB, 401, "authorization"},
		{"beta's operator key on acme's connection", http.MethodGet, "/v1/admin/connections/" + connA + "/unmapped", opKeyB, 404, "id"},
		{"beta's operator key on acme's failures", http.MethodGet, "/v1/admin/failures?connection=" + connA, opKeyB, 404, "connection"},
		{"acme has no operator key: its API key opens its views", http.MethodGet, "/v1/admin/failures", keyA, 200, ""},
		{"an unknown key", http.MethodGet, "/v1/admin/queues", "nope-nope-nope", 401, "authorization"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := e.do(t, req{Method: c.method, Path: c.path, Key: c.key, Body: batch()})
			if rec.Code != c.status {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, c.status)
			}
			if c.field != "" && errorBody(t, rec).Field != c.field {
				t.Errorf("error %s, want field %s", rec.Body, c.field)
			}
		})
	}
	if fl := decodeBody[httpapi.FailureList](t, e.get(t, opKeyB, "/v1/admin/failures")); len(fl.Failures) != 0 {
		t.Errorf("beta's operator sees acme's failures: %+v", fl)
	}
	if cl := decodeBody[httpapi.ConnectionList](t, e.get(t, opKeyB, "/v1/admin/connections")); len(cl.Connections) != 1 ||
		cl.Connections[0] != (httpapi.ConnectionSummary{ID: connB, Platform: "tray", Enabled: true}) {
		t.Errorf("beta's connections %+v", cl)
	}
}

func TestUnmappedSKUs(t *testing.T) {
	e := newEnv(t)
	// are mapped by the setup; A-3..A-5 are new ERP products.
	var changes []ingest.Change
	for _, sku := range []string{"A-3", "A-4", "A-5"} {
		changes = append(changes, ingest.Change{Kind: ingest.KindProduct, SKU: sku, Version: 1,
			Product: &domain.Product{SKU: sku, Name: "Product " + sku, EAN: "789" + sku[2:], Publish: true, SyncStock: true, Version: 1}})
	}
	if _, err := e.hub.Ingest.Apply(context.Background(), "acme", changes); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []string{"100", "1", "2"} {
		t.Run("limit "+limit, func(t *testing.T) {
			var got []string
			cursor, pages := "", 0
			for {
				rec := e.get(t, keyA, "/v1/admin/connections/"+connA+"/unmapped?limit="+limit+"&cursor="+cursor)
				if rec.Code != http.StatusOK {
					t.Fatalf("%d %s", rec.Code, rec.Body)
				}
				page := decodeBody[httpapi.UnmappedList](t, rec)
				for _, s := range page.SKUs {
					got = append(got, s.SKU)
					if s.Name != "Product "+s.SKU || s.EAN == "" {
						t.Errorf("unmapped %+v", s)
					}
				}
				if cursor = page.NextCursor; cursor == "" {
					break
				}
				if pages++; pages > 10 {
					t.Fatal("paging does not end")
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, []string{"A-3", "A-4", "A-5"}) {
				t.Errorf("unmapped %v, want A-3 A-4 A-5", got)
			}
		})
	}
	for _, c := range []struct {
		name, path, field string
		status            int
	}{
		{"bad cursor", "/v1/admin/connections/" + connA + "/unmapped?cursor=%21%21", "cursor", 400},
		{"bad limit", "/v1/admin/connections/" + connA + "/unmapped?limit=0", "limit", 400},
		{"another tenant's connection", "/v1/admin/connections/" + connB + "/unmapped", "id", 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := e.get(t, keyA, c.path)
			if rec.Code != c.status || errorBody(t, rec).Field != c.field {
				t.Errorf("%d %s, want %d naming %s", rec.Code, rec.Body, c.status, c.field)
			}
		})
	}
}

func TestAdditionalCode(t *testing.T) {
	e := newEnv(t)
	before, _ := e.sku(t, "acme", "A-1")
	for i := range 2 { // the second time changes nothing
		rec := e.do(t, req{Path: "/v1/admin/products/A-1/codes", Key: keyA, Body: `{"code":" SITE-77 "}`})
		if rec.Code != http.StatusOK {
			t.Fatalf("add #%d: %d %s", i, rec.Code, rec.Body)
		}
		if got := decodeBody[httpapi.ProductCodes](t, rec); got.SKU != "A-1" || !slices.Equal(got.AdditionalCodes, []string{"SITE-77"}) {
			t.Fatalf("add #%d: %+v", i, got)
		}
	}
	after, _ := e.sku(t, "acme", "A-1")
	if after.Rev != before.Rev+1 || after.Product.Name != before.Product.Name || after.Product.Version != before.Product.Version {
		t.Errorf("product changed beyond its codes: before %+v after %+v", before.Product, after.Product)
	}
	for _, c := range []struct {
		name, key, path, body, field string
		status                       int
	}{
		{"unknown product", keyA, "/v1/admin/products/NOPE/codes", `{"code":"X"}`, "sku", 404},
		{"another tenant's product", keyB, "/v1/admin/products/A-1/codes", `{"code":"X"}`, "sku", 404},
		{"empty code", keyA, "/v1/admin/products/A-1/codes", `{"code":"  "}`, "code", 400},
		{"control characters", keyA, "/v1/admin/products/A-1/codes", `{"code":"a\u0000b"}`, "code", 400},
		{"unknown field", keyA, "/v1/admin/products/A-1/codes", `{"code":"X","sku":"Y"}`, "body", 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := e.do(t, req{Path: c.path, Key: c.key, Body: c.body})
			if rec.Code != c.status || errorBody(t, rec).Field != c.field {
				t.Errorf("%d %s, want %d naming %s", rec.Code, rec.Body, c.status, c.field)
			}
		})
	}
}
