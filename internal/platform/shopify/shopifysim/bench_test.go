package shopifysim_test

import (
	"context"
	"strconv"
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

// TestKitThroughput pushes like the hub's pusher (50 updates a call, one consumer per
// store) through the kit at the bench's default limit and checks nothing is throttled.
func TestKitThroughput(t *testing.T) {
	const stores, skus, rounds = 4, 1000, 3
	k := shopifysim.NewKit()
	if _, err := k.Start(":0"); err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	var wg sync.WaitGroup
	start := time.Now()
	errs := make(chan error, stores)
	for s := range stores {
		id := "store" + strconv.Itoa(s)
		st, err := k.NewStore(id, 600_000)
		if err != nil {
			t.Fatal(err)
		}
		prods := make([]platformsim.Product, skus)
		for i := range prods {
			if prods[i], err = k.NewProduct(id, "sku"+strconv.Itoa(i), 0, decimal.Zero); err != nil {
				t.Fatal(err)
			}
		}
		c := shopify.New(secrets{"ref": st.Secrets}, shopify.Options{})
		conn := domain.Connection{ID: id, Settings: st.Settings, SecretRef: "ref", Currency: "BRL"}
		wg.Go(func() {
			for r := range rounds {
				for from := 0; from < skus; from += 50 {
					ups := make([]platform.Update, 0, 50)
					for i := from; i < from+50; i++ {
						n := int64(r*10 + i%7)
						ups = append(ups, platform.Update{Target: platform.Target{SKU: "sku", ProductID: prods[i].ProductID, VariantID: prods[i].VariantID}, Stock: &n})
					}
					for _, err := range c.Push(context.Background(), conn, ups) {
						if err != nil {
							errs <- err
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	var writes, throttled int64
	for s := range stores {
		c := k.Calls("store" + strconv.Itoa(s))
		writes += c.Writes
		throttled += c.RateLimited
	}
	t.Logf("%d stock updates in %d write calls, %v (%.0f updates/s)", stores*skus*rounds, writes, elapsed, float64(stores*skus*rounds)/elapsed.Seconds())
	if throttled != 0 || writes != stores*rounds*skus/50 {
		t.Fatalf("throttled %d, writes %d", throttled, writes)
	}
}
