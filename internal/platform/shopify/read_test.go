package shopify

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/shopify/shopifysim"
)

func TestCostBucketKeepsBurstFreeOfThrottling(t *testing.T) {
	// 8 workers push 5 single-item stock writes each (10 points a write, plus the first
	// reads): several times a 60-point bucket. The second shop's clock stands still, so it
	// never refills: a connector believing in a larger bucket must be throttled, however
	// slow or fast the machine is (a restore rate alone let a slow machine stay under it).
	frozen := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		sim       shopifysim.Options
		shop      shopifysim.StoreConfig
		settings  map[string]string
		throttled bool
	}{
		{"configured like the shop", shopifysim.Options{}, shopifysim.StoreConfig{BucketSize: 60, RestoreRate: 300},
			map[string]string{"cost_bucket_size": "60", "cost_restore_rate": "300"}, false},
		{"configured larger than the shop", shopifysim.Options{Now: func() time.Time { return frozen }},
			shopifysim.StoreConfig{BucketSize: 60, RestoreRate: 300},
			map[string]string{"cost_bucket_size": "2000", "cost_restore_rate": "1000"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.sim, tt.shop, tt.settings)
			ts := e.seed(8)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var failures []error
			for w := range 8 {
				wg.Go(func() {
					for n := range 5 {
						if err := e.c.Push(context.Background(), e.conn, []platform.Update{{Target: ts[w], Stock: i64(int64(n))}})[0]; err != nil {
							mu.Lock()
							failures = append(failures, err)
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			calls := e.sim.Calls(testShop)
			if !tt.throttled {
				if calls.Throttled != 0 || len(failures) != 0 {
					t.Fatalf("throttled %d times, failures %v", calls.Throttled, failures)
				}
				if calls.Writes != 40 {
					t.Fatalf("writes %d, want 40", calls.Writes)
				}
				return
			}
			if calls.Throttled == 0 {
				t.Fatal("a bucket larger than the shop's should have been throttled (the simulator enforces its limit)")
			}
			for _, err := range failures {
				if pe := platform.AsError(err); pe.Kind != platform.RateLimited || pe.RetryAfter <= 0 {
					t.Fatalf("throttled write classified as %+v", pe)
				}
			}
		})
	}
}

func TestReadBack(t *testing.T) {
	e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, map[string]string{"read_batch": "2"})
	ts := e.seed(5)
	noErrors(t, e.c.Push(context.Background(), e.conn, []platform.Update{{Target: ts[1], Stock: i64(42), Price: brl("12.34")}}))
	targets := append(append([]platform.Target{}, ts...),
		platform.Target{SKU: "ghost", VariantID: "gid://shopify/ProductVariant/77777"},
		platform.Target{SKU: "bad", VariantID: "x"})
	snaps, err := e.c.ReadBack(context.Background(), e.conn, targets)
	if err == nil || !strings.Contains(err.Error(), "ghost") || !strings.Contains(err.Error(), "sku bad") {
		t.Fatalf("want errors for ghost and bad, got %v", err)
	}
	if len(snaps) != 5 {
		t.Fatalf("%d snapshots, want 5", len(snaps))
	}
	if s := snaps[1]; s.Stock == nil || *s.Stock != 42 || s.Price == nil || s.Price.Amount.StringFixed(2) != "12.34" || s.Price.Currency != "BRL" || s.SKU != "SKU-1" {
		t.Fatalf("snapshot %+v", s)
	}
	if s := snaps[0]; s.Stock == nil || *s.Stock != 5 {
		t.Fatalf("snapshot %+v", s)
	}
	if got := e.ops("Variants"); got != 1+3 { // 1 resolve for the push, 3 reads of 2 (5 ids + ghost = 6)
		t.Fatalf("Variants reads %d, want 4", got)
	}
	// Without a location, stock is the variant's total.
	delete(e.conn.Settings, "location_id")
	snaps, err = e.c.ReadBack(context.Background(), e.conn, ts[:1])
	if err != nil || len(snaps) != 1 || snaps[0].Stock == nil || *snaps[0].Stock != 5 {
		t.Fatalf("without location: %+v %v", snaps, err)
	}
}

func TestListCatalogPages(t *testing.T) {
	e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, map[string]string{"catalog_page_size": "3"})
	ts := e.seed(7)
	var items []platform.CatalogItem
	cursor, pages := "", 0
	for {
		page, err := e.c.ListCatalog(context.Background(), e.conn, cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		items = append(items, page.Items...)
		if page.Next == "" {
			break
		}
		cursor = page.Next
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if pages != 3 || len(items) != 7 {
		t.Fatalf("%d pages, %d items; want 3 and 7", pages, len(items))
	}
	for i, it := range items {
		if it.SKU != ts[i].SKU || it.VariantID != ts[i].VariantID || it.ProductID != ts[i].ProductID ||
			it.Stock == nil || *it.Stock != 5 || it.Price == nil || it.Price.Amount.StringFixed(2) != "10.00" || it.Name != "Product "+ts[i].SKU {
			t.Fatalf("item %d: %+v", i, it)
		}
	}
	if _, err := e.c.ListCatalog(context.Background(), e.conn, "garbage"); err == nil || kindOf(err) != platform.Permanent {
		t.Fatalf("bad cursor: %v", err)
	}
}
