package shopifysim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/platformsim"
	"github.com/ponte-hub/ponte/internal/platform/shopify"
	"github.com/ponte-hub/ponte/internal/platform/shopify/shopifysim"
)

type secrets map[string]map[string]string

func (s secrets) GetSecret(_ context.Context, ref string) (map[string]string, error) {
	return maps.Clone(s[ref]), nil
}
func (s secrets) PutSecret(context.Context, string, map[string]string) error { return nil }

func TestKitDrivesTheConnector(t *testing.T) {
	k := shopifysim.NewKit()
	base, err := k.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if base == "" || k.Platform() != "shopify" {
		t.Fatal("kit not started")
	}
	var mu sync.Mutex
	seen := map[string]int64{}
	k.ObserveStock(func(store string, p platformsim.Product, stock int64, _ time.Time) {
		mu.Lock()
		seen[store+"|"+p.VariantID] = stock
		mu.Unlock()
	})
	for _, shop := range []string{"s1", "s2"} {
		st, err := k.NewStore(shop, 600)
		if err != nil {
			t.Fatal(err)
		}
		sec := secrets{"ref": st.Secrets}
		c := shopify.New(sec, shopify.Options{})
		conn := domain.Connection{ID: shop, Settings: st.Settings, SecretRef: "ref", Currency: "BRL"}
		var ups []platform.Update
		var prods []platformsim.Product
		for i := range 30 {
			p, err := k.NewProduct(shop, "sku", int64(i), decimal.RequireFromString("9.90"))
			if err != nil {
				t.Fatal(err)
			}
			prods = append(prods, p)
			n := int64(100 + i)
			m := domain.MustMoney("12.5", "BRL")
			ups = append(ups, platform.Update{Target: platform.Target{SKU: "sku", ProductID: p.ProductID, VariantID: p.VariantID}, Stock: &n, Price: &m})
		}
		for i, err := range c.Push(context.Background(), conn, ups) {
			if err != nil {
				t.Fatalf("%s update %d: %v", shop, i, err)
			}
		}
		for i, p := range prods {
			if q, ok := k.Stock(shop, p); !ok || q != int64(100+i) {
				t.Fatalf("%s stock %d %v", shop, q, ok)
			}
			mu.Lock()
			got := seen[shop+"|"+p.VariantID]
			mu.Unlock()
			if got != int64(100+i) {
				t.Fatalf("observer saw %d", got)
			}
		}
		calls := k.Calls(shop)
		if calls.Writes != 3 || calls.RateLimited != 0 || calls.Total != 4 {
			t.Fatalf("%s calls %+v: want 1 read, 1 stock write, 2 catalogue writes (25 products a call)", shop, calls)
		}
	}
	if _, err := k.NewProduct("nope", "x", 1, decimal.Zero); err == nil {
		t.Fatal("unknown store accepted")
	}
}

func post(t *testing.T, url, token string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("X-Shopify-Access-Token", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestSimulatorRules(t *testing.T) {
	sim := shopifysim.New(shopifysim.Options{})
	sim.AddStore("s", shopifysim.StoreConfig{Token: "tok", BucketSize: 45, RestoreRate: 1})
	base, err := sim.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	_, v, _ := sim.AddProduct("s", "a", 5, decimal.RequireFromString("1"))
	url := shopifysim.BaseURL(base, "s") + "/admin/api/2026-04/graphql.json"
	if code, _ := post(t, url, "bad", map[string]any{"query": "{}"}); code != http.StatusUnauthorized {
		t.Fatalf("bad token: %d", code)
	}
	if code, _ := post(t, shopifysim.BaseURL(base, "x")+"/admin/api/2026-04/graphql.json", "tok", map[string]any{"query": "{}"}); code != http.StatusNotFound {
		t.Fatalf("unknown shop: %d", code)
	}
	vv, _ := sim.Variant("s", v)
	set := func(cf any, key string) map[string]any {
		q := map[string]any{"inventoryItemId": vv.InventoryItemID, "locationId": shopifysim.Location, "quantity": 3}
		if cf != "omit" {
			q["changeFromQuantity"] = cf
		}
		query := "mutation SetStock($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { field message code } } }"
		if key != "" {
			query = strings.Replace(query, "(input: $input)", "(input: $input) @idempotent(key: \""+key+"\")", 1)
		}
		_, out := post(t, url, "tok", map[string]any{"operationName": "SetStock", "query": query,
			"variables": map[string]any{"input": map[string]any{"name": "available", "reason": "correction", "quantities": []any{q}}}})
		return out
	}
	code := func(out map[string]any) string {
		data, _ := out["data"].(map[string]any)
		if data == nil {
			errs, _ := out["errors"].([]any)
			if len(errs) > 0 {
				return errs[0].(map[string]any)["extensions"].(map[string]any)["code"].(string)
			}
			return "no data"
		}
		ues := data["inventorySetQuantities"].(map[string]any)["userErrors"].([]any)
		if len(ues) == 0 {
			return ""
		}
		return ues[0].(map[string]any)["code"].(string)
	}
	if c := code(set(nil, "")); c != "BAD_REQUEST" {
		t.Fatalf("no idempotency key: %q", c)
	}
	if c := code(set(nil, "k0")); c != "" {
		t.Fatalf("first write: %q", c)
	}
	sim.SetAvailable("s", v, 7)
	if c := code(set(nil, "k0")); c != "" {
		t.Fatalf("replay: %q", c)
	}
	if q, _ := sim.Stock("s", v); q != 7 {
		t.Fatalf("a replayed key applied again: stock %d, want 7", q)
	}
	if c := code(set("omit", "k1")); c != "CHANGE_FROM_QUANTITY_REQUIRED" {
		t.Fatalf("omitted changeFromQuantity: %q", c)
	}
	if c := code(set(4, "k2")); c != "CHANGE_FROM_QUANTITY_STALE" {
		t.Fatalf("stale: %q", c)
	}
	// Bucket of 45, restore 1/s: four executed 10-point calls leave 5 (the rejected one is refunded).
	if c := code(set(5, "k3")); c != "THROTTLED" {
		t.Fatalf("want THROTTLED, got %q", c)
	}
	if s := sim.Calls("s"); s.Throttled != 1 {
		t.Fatalf("throttled %d", s.Throttled)
	}
}
