package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/store"
	"github.com/ponte-hub/ponte/internal/store/sqlite"
	"github.com/ponte-hub/ponte/internal/store/storetest"
)

// Compile-time checks: the embedded store is the whole port and holds secrets too.
var (
	_ store.Store      = (*sqlite.Store)(nil)
	_ platform.Secrets = (*sqlite.Store)(nil)
)

func open(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "ponte.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

func TestContract(t *testing.T) {
	t.Log("store contract suite: embedded SQLite (race cases run: one writer at a time)")
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) }, storetest.Expire(purgeAt))
}

// purgeAt runs the scheduler's purge as of now, in small batches so several are needed.
func purgeAt(t *testing.T, s store.Store, now time.Time) {
	t.Helper()
	if _, err := s.(*sqlite.Store).PurgeExpired(context.Background(), now, 2); err != nil {
		t.Fatalf("purge: %v", err)
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ponte.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutTenant(ctx, domain.Tenant{ID: "t1", APIKeyHash: "h"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(ctx, path) // migrations must be a no-op the second time
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetTenant(ctx, "t1"); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
}

func TestOpenRefusesMemory(t *testing.T) {
	if _, err := sqlite.Open(context.Background(), ":memory:"); err == nil {
		t.Fatal("Open(:memory:) succeeded; the read and write pools would see different databases")
	}
}

// BenchmarkPutSKUs1000 is the ingest hot path: read 1,000 SKUs, bump their stock, write
// them back in one PutSKUs call. Reported per call of 1,000 writes.
func BenchmarkPutSKUs1000(b *testing.B) {
	ctx := context.Background()
	s := open(b)
	const n = 1000
	names := make([]string, n)
	writes := make([]store.SKUWrite, n)
	for i := range names {
		names[i] = fmt.Sprintf("SKU-%05d", i)
		writes[i] = store.SKUWrite{State: benchState(names[i], 1, 0)}
	}
	if errs, err := s.PutSKUs(ctx, writes); err != nil || errs[0] != nil {
		b.Fatal(err, errs[0])
	}
	rev := int64(1) // stored rev, carried across the runs b.Run makes
	b.Run("PutSKUs", func(b *testing.B) {
		for b.Loop() {
			rev++
			for j := range writes {
				writes[j] = store.SKUWrite{State: benchState(names[j], rev, rev), ExpectedRev: rev - 1}
			}
			errs, err := s.PutSKUs(ctx, writes)
			if err != nil {
				b.Fatal(err)
			}
			for _, e := range errs {
				if e != nil {
					b.Fatal(e)
				}
			}
		}
	})
	b.Run("GetSKUs", func(b *testing.B) {
		for b.Loop() {
			got, err := s.GetSKUs(ctx, "bench", names)
			if err != nil || len(got) != n {
				b.Fatal(err, len(got))
			}
		}
	})
}

func benchState(sku string, rev, qty int64) domain.SKUState {
	now := time.Now().UTC()
	return domain.SKUState{
		Tenant: "bench", SKU: sku, Rev: rev, UpdatedAt: now,
		Product: &domain.Product{SKU: sku, Name: "Product " + sku, EAN: "7891234567895", Publish: true, SyncStock: true},
		Stock: map[string]domain.StockLevel{
			"main":   {Warehouse: "main", Quantity: qty, Version: domain.Version(rev), UpdatedAt: now},
			"outlet": {Warehouse: "outlet", Quantity: 5, Version: 1, UpdatedAt: now},
		},
		Price: &domain.PriceInfo{Price: domain.MustMoney("19.90", "BRL"), Version: 1, UpdatedAt: now},
	}
}
