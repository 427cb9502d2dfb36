package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/catalog"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/httpapi"
	"github.com/ponte-hub/ponte/internal/ingest"
	"github.com/ponte-hub/ponte/internal/platform/merchantpro/merchantprosim"
)

func TestFirstSyncThroughTheOperatorAPIEmbedded(t *testing.T) { testFirstSyncAPI(t, openEmbedded(t)) }
func TestFirstSyncThroughTheOperatorAPIOnAWS(t *testing.T)    { testFirstSyncAPI(t, openAWS(t)) }

// testFirstSyncAPI: a merchant starts with a MerchantPro shop and an ERP that both hold
// products. The operator starts the first sync through the API, the scheduler works it,
// the report names what matched, what is ambiguous and what is unmatched; the operator
// gives an ERP product the shop's code and the second run links it, creating nothing twice.
func testFirstSyncAPI(t *testing.T, hub *app.Hub) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const (
		shop    = "fs-shop"
		connID  = "fs-mp-1"
		apiKey  = "fs-api-key-000000000000001"
		operKey = "fs-operator-key-0000000001"
	)
	sim := merchantprosim.New(merchantprosim.Options{RateLimit: 1000, RateWindow: time.Second})
	sim.AddStore(shop, merchantprosim.StoreConfig{APIKey: "k", APISecret: "s"})
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	setup := app.Setup{
		Tenants: []app.TenantSetup{{ID: "fs", Name: "First sync", APIKey: apiKey, OperatorKey: operKey, Currency: "RON"}},
		Connections: []domain.Connection{{ID: connID, Tenant: "fs", Platform: "merchantpro", Enabled: true, SecretRef: connID,
			Currency: "RON", Settings: map[string]string{"base_url": merchantprosim.StoreURL(base, shop),
				"rate_limit": "1000", "rate_window_ms": "1000", "page_size": "2"}}},
		Secrets: map[string]map[string]string{connID: {"api_key": "k", "api_secret": "s"}},
	}
	if err := hub.ApplySetup(ctx, setup); err != nil {
		t.Fatal(err)
	}
	// The ERP's catalogue, through the ERP API's ingest path.
	var changes []ingest.Change
	for _, p := range []domain.Product{
		{SKU: "SKU-1", Name: "ERP one"},
		{SKU: "ERP-2", EAN: "5941234000012", Name: "ERP two"},
		{SKU: "ERP-3", EAN: "5940000000099", Name: "ERP three"},
		{SKU: "ERP-4", EAN: "5940000000099", Name: "ERP four"},
		{SKU: "ERP-5", Name: "ERP five"},
	} {
		p.Publish, p.SyncStock, p.Version = true, true, 1
		changes = append(changes, ingest.Change{Kind: ingest.KindProduct, SKU: p.SKU, Version: 1, Product: &p})
	}
	if _, err := hub.Ingest.Apply(ctx, "fs", changes); err != nil {
		t.Fatal(err)
	}
	// The shop's catalogue: by SKU, by EAN, one EAN on two ERP products, one unknown.
	for _, p := range []merchantprosim.Product{
		{ID: 11, SKU: "SKU-1", Name: "Shop one"},
		{ID: 12, SKU: "SHOP-2", EAN: "5941234000012", Name: "Shop two"},
		{ID: 13, SKU: "SHOP-3", EAN: "5940000000099", Name: "Shop three"},
		{ID: 19, SKU: "SHOP-9", Name: "Shop nine"},
	} {
		p.Type, p.Status, p.Stock, p.PriceGross = "simple", "active", 4, decimal.RequireFromString("10.00")
		if err := sim.AddProduct(shop, p); err != nil {
			t.Fatal(err)
		}
	}
	go hub.RunScheduler(ctx, app.Schedule{OrderPoll: time.Hour, Reconcile: time.Hour})
	srv := httptest.NewServer(hub.API.Handler())
	defer srv.Close()
	call := func(method, path, key, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var raw json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&raw)
		return resp.StatusCode, raw
	}
	path := "/v1/admin/connections/" + connID + "/first-sync"
	if code, _ := call(http.MethodPost, path, apiKey, ""); code != http.StatusUnauthorized {
		t.Fatalf("the ERP key started a first sync: %d", code)
	}
	sync := func() catalog.Report {
		t.Helper()
		code, body := call(http.MethodPost, path, operKey, "")
		if code != http.StatusAccepted {
			t.Fatalf("start: %d %s", code, body)
		}
		var started httpapi.FirstSyncStarted
		if err := json.Unmarshal(body, &started); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			code, body := call(http.MethodGet, path+"?limit=1", operKey, "")
			var list httpapi.ReportList
			if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil || len(list.Reports) != 1 {
				t.Fatalf("progress: %d %s %v", code, body, err)
			}
			if j := list.Reports[0]; j.ID == started.Job.ID && j.Status != "running" {
				if j.Status != "done" || j.Done != 4 || j.Total != 4 {
					t.Fatalf("job %s: status %s, %d/%d, error %q", j.ID, j.Status, j.Done, j.Total, j.Error)
				}
				rep, err := catalog.ParseReport(j)
				if err != nil {
					t.Fatal(err)
				}
				return rep
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatal("the first sync did not finish within 60 s")
		return catalog.Report{}
	}

	first := sync().Products
	if first.Checked != 4 || first.LinkedBySKU != 1 || first.LinkedByEAN != 1 || first.Ambiguous != 1 || first.Unmatched != 1 || first.Imported != 0 {
		t.Fatalf("first run %+v", first)
	}
	if a := first.AmbiguousItems; len(a) != 1 || a[0].SKU != "SHOP-3" || strings.Join(a[0].Candidates, ",") != "ERP-3,ERP-4" {
		t.Errorf("ambiguous %+v", a)
	}
	if u := first.UnmatchedItems; len(u) != 1 || u[0].SKU != "SHOP-9" {
		t.Errorf("unmatched %+v", u)
	}
	// ERP-3, ERP-4 and ERP-5 are still unmapped; the linked two are not.
	code, body := call(http.MethodGet, "/v1/admin/connections/"+connID+"/unmapped", operKey, "")
	var unmapped httpapi.UnmappedList
	if err := json.Unmarshal(body, &unmapped); code != http.StatusOK || err != nil {
		t.Fatalf("unmapped: %d %s", code, body)
	}
	var skus []string
	for _, s := range unmapped.SKUs {
		skus = append(skus, s.SKU)
	}
	slices.Sort(skus) // DynamoDB lists by shard, not by SKU
	if strings.Join(skus, ",") != "ERP-3,ERP-4,ERP-5" || unmapped.NextCursor != "" {
		t.Errorf("unmapped %v", skus)
	}
	// The operator tells the hub ERP-5 is the shop's SHOP-9 and runs it again.
	if code, body := call(http.MethodPost, "/v1/admin/products/ERP-5/codes", operKey, `{"code":"SHOP-9"}`); code != http.StatusOK {
		t.Fatalf("add code: %d %s", code, body)
	}
	second := sync().Products
	if second.Checked != 4 || second.AlreadyLinked != 2 || second.LinkedByCode != 1 || second.Ambiguous != 1 || second.Unmatched != 0 ||
		second.LinkedBySKU+second.LinkedByEAN+second.Imported != 0 {
		t.Fatalf("second run %+v", second)
	}
	// The ERP's data is untouched by linking.
	states, err := hub.Store.GetSKUs(ctx, "fs", []string{"SKU-1", "ERP-2"})
	if err != nil {
		t.Fatal(err)
	}
	if states["SKU-1"].Product.Name != "ERP one" || states["ERP-2"].Product.Name != "ERP two" {
		t.Errorf("ERP products changed: %+v %+v", states["SKU-1"].Product, states["ERP-2"].Product)
	}
}
