package app_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/nuvemshop"
	"github.com/ponte-hub/ponte/internal/platform/nuvemshop/nuvemshopsim"
	"github.com/ponte-hub/ponte/internal/platform/ratelimit"
)

// Three hubs on one table push to one Nuvemshop store at once, one variant a call. The
// simulator keeps the store's leaky bucket (6 deep, draining 5 a second here) and
// answers 429 when it overflows: with the bucket shared in the table it never does;
// with each hub mirroring the bucket alone, their three bursts overflow it.
func TestHubsOnAWSShareOneNuvemshopBucket(t *testing.T) {
	endpoint := awsEndpoint(t)
	const (
		hubs    = 3
		perHub  = 8
		bucket  = 6
		perSec  = 5
		timeout = 500 // ms: the flight the shared bucket leaves each request
	)
	tests := []struct {
		name    string
		limits  func(h *app.Hub) ratelimit.Limits
		want429 bool
	}{
		{"bucket shared in the table", func(h *app.Hub) ratelimit.Limits { return h.RateLimits }, false},
		{"each hub mirroring alone", func(*app.Hub) ratelimit.Limits { return ratelimit.Local{} }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			rows := &rateRows{}
			hs := openRateHubs(t, endpoint, hubs, rows)

			sim := nuvemshopsim.New(nuvemshopsim.Options{Bucket: bucket, PerSec: perSec})
			const storeID, token = "777", "rl-token-0123456789"
			sim.AddStore(storeID, nuvemshopsim.StoreConfig{AccessToken: token, AppSecret: "rl-app-secret"})
			base, err := sim.Start(":0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(sim.Close)
			for i := 1; i <= hubs*perHub; i++ {
				if err := sim.AddProduct(storeID, strconv.Itoa(i), strconv.Itoa(1000+i), "SKU-"+strconv.Itoa(i), 0, decimal.RequireFromString("10.00")); err != nil {
					t.Fatal(err)
				}
			}
			const connID, secretRef = "rl-nuvem", "nuvemshop/rl-nuvem"
			err = hs[0].ApplySetup(ctx, app.Setup{
				Tenants: []app.TenantSetup{{ID: "rl", Name: "Rate limit", APIKey: "rate-limit-erp-key-0123456789", Currency: "BRL"}},
				Connections: []domain.Connection{{ID: connID, Tenant: "rl", Platform: nuvemshop.Name, Enabled: true, SecretRef: secretRef, Currency: "BRL",
					Settings: map[string]string{"base_url": nuvemshopsim.BaseURL(base), "store_id": storeID, "batch_size": "1",
						"rate_limit_bucket": strconv.Itoa(bucket), "rate_limit_per_sec": strconv.Itoa(perSec),
						"timeout_ms": strconv.Itoa(timeout), "user_agent": "Ponte tests (dev@ponte.example)"}}},
				Secrets: map[string]map[string]string{secretRef: {"access_token": token, "app_secret": "rl-app-secret"}},
			})
			if err != nil {
				t.Fatalf("apply setup: %v", err)
			}

			var wg sync.WaitGroup
			failures := make([][]error, hubs)
			started := time.Now()
			for i, h := range hs {
				conn, err := h.Store.GetConnection(ctx, connID)
				if err != nil {
					t.Fatal(err)
				}
				c := nuvemshop.New(h.Secrets, nuvemshop.Options{Logger: quietLogger(), Limits: tc.limits(h)})
				ups := make([]platform.Update, perHub)
				for j := range ups {
					id := i*perHub + j + 1
					ups[j] = platform.Update{Target: platform.Target{SKU: "SKU-" + strconv.Itoa(id), ProductID: strconv.Itoa(id),
						VariantID: strconv.Itoa(1000 + id)}, Stock: ptr(int64(j + 1))}
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					failures[i] = c.Push(ctx, conn, ups)
				}()
			}
			wg.Wait()
			calls := sim.Calls(storeID)
			t.Logf("%d hubs: %d calls to the store (%d writes) in %v, %d answered 429; %d writes to the shared bucket",
				hubs, calls.Total, calls.Writes, time.Since(started).Round(time.Millisecond), calls.RateLimited, rows.writes.Load())
			if tc.want429 {
				if calls.RateLimited == 0 {
					t.Fatal("no 429 with each hub mirroring alone: the test would not see a shared bucket fail")
				}
				return
			}
			if calls.RateLimited != 0 {
				t.Fatalf("the store answered %d 429s: the hubs together overflowed its bucket of %d", calls.RateLimited, bucket)
			}
			for i, errs := range failures {
				for j, err := range errs {
					if err != nil {
						t.Fatalf("hub %d update %d: %v", i, j, err)
					}
				}
			}
			if calls.Writes != hubs*perHub {
				t.Fatalf("writes = %d, want %d", calls.Writes, hubs*perHub)
			}
		})
	}
}
