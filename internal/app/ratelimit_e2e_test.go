package app_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/ratelimit"
	"github.com/ponte-hub/ponte/internal/platform/tray"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
)

// rateRows serialises the writes to shared rate-limit rows across every hub of a test
// and counts them. DynamoDB applies each conditional write to an item atomically; moto
// does not under concurrency (it checks the condition and then writes, unlocked), so
// two swaps on one revision could both win there. Holding one swap at a time on the
// client gives moto the guarantee DynamoDB has, for single calls only: any logic that
// relied on two calls in a row being atomic would still break here.
type rateRows struct {
	mu     sync.Mutex
	writes atomic.Int64
}

func (r *rateRows) option(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("serialise-rate-rows",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if u, ok := in.Parameters.(*dynamodb.UpdateItemInput); ok {
				if pk, ok := u.Key["pk"].(*types.AttributeValueMemberS); ok && len(pk.Value) > 5 && pk.Value[:5] == "RATE#" {
					r.mu.Lock()
					defer r.mu.Unlock()
					r.writes.Add(1)
				}
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

// Three hubs on one table (three Lambda execution environments, or three functions)
// push to one Tray store at once. With the limits shared in the table the simulator,
// which enforces the store's rolling limit, never answers 429; with each hub keeping
// the limit in its own memory (what every function did before), it does.
func TestHubsOnAWSShareOneStoreLimit(t *testing.T) {
	endpoint := awsEndpoint(t)
	const (
		hubs   = 3
		perHub = 12 // updates each hub pushes, all at once
		limit  = 20 // the store's limit per window
		window = 2 * time.Second
		// The requests' timeout, which the shared bucket leaves each request to reach the
		// store: generous, so a starved CI machine cannot stretch a call past it.
		timeout = 1500 // ms
	)
	tests := []struct {
		name    string
		limits  func(h *app.Hub) ratelimit.Limits
		want429 bool
	}{
		{"limits shared in the table", func(h *app.Hub) ratelimit.Limits { return h.RateLimits }, false},
		{"each hub counting alone", func(*app.Hub) ratelimit.Limits { return ratelimit.Local{} }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			rows := &rateRows{}
			hs := openRateHubs(t, endpoint, hubs, rows)

			sim := traysim.New(traysim.Options{RateLimitPerMin: limit, RateWindow: window, DailyLimit: 1 << 20})
			base, err := sim.Start(":0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(sim.Close)
			cfg := traysim.StoreConfig{ConsumerKey: "rl-key", ConsumerSecret: "rl-secret", Code: "rl-code"}
			sim.AddStore("rl", cfg)
			for i := 1; i <= hubs*perHub; i++ {
				sim.AddProduct("rl", strconv.Itoa(i), 0, decimal.Zero)
			}
			const connID, secretRef = "rl-tray", "tray/rl-tray"
			err = hs[0].ApplySetup(ctx, app.Setup{
				Tenants: []app.TenantSetup{{ID: "rl", Name: "Rate limit", APIKey: "rate-limit-erp-key-0123456789", Currency: "BRL"}},
				Connections: []domain.Connection{{ID: connID, Tenant: "rl", Platform: "tray", Enabled: true, SecretRef: secretRef, Currency: "BRL",
					Settings: map[string]string{"api_address": traysim.APIAddress(base, "rl"), "store_id": "1",
						"rate_limit_per_min": strconv.Itoa(limit), "timeout_ms": strconv.Itoa(timeout)}}},
				Secrets: map[string]map[string]string{secretRef: {"consumer_key": cfg.ConsumerKey, "consumer_secret": cfg.ConsumerSecret, "code": cfg.Code}},
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
				// The connector each hub builds, on the simulator's shortened window
				// (both sides scaled alike; ratelimit's tests cover the real minute's math).
				c := tray.New(h.Secrets, tray.Options{Logger: quietLogger(), Limits: tc.limits(h), RateWindow: window})
				ups := make([]platform.Update, perHub)
				for j := range ups {
					id := strconv.Itoa(i*perHub + j + 1)
					ups[j] = platform.Update{Target: platform.Target{SKU: "SKU-" + id, ProductID: id}, Stock: ptr(int64(j + 1))}
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					failures[i] = c.Push(ctx, conn, ups)
				}()
			}
			wg.Wait()
			took := time.Since(started)

			calls := sim.Calls("rl")
			puts := calls.ByEndpoint[traysim.EpProductPut]
			t.Logf("%d hubs: %d calls to the store (%d PUTs) in %v, %d answered 429; %d writes to the shared bucket",
				hubs, calls.Total, puts, took.Round(time.Millisecond), calls.RateLimited, rows.writes.Load())
			if !tc.want429 {
				if calls.RateLimited != 0 {
					t.Fatalf("the store answered %d 429s: the hubs together went over %d per %v", calls.RateLimited, limit, window)
				}
				for i, errs := range failures {
					for j, err := range errs {
						if err != nil {
							t.Fatalf("hub %d update %d: %v", i, j, err)
						}
					}
				}
				if puts != hubs*perHub {
					t.Fatalf("PUTs = %d, want %d", puts, hubs*perHub)
				}
				// A write leases tokens for one or more calls (up to two here: batches are a
				// tenth of the limit); a hub whose last view is stale loses one write first.
				if w := rows.writes.Load(); w == 0 || w > 2*calls.Total {
					t.Fatalf("writes to the shared bucket = %d for %d calls", w, calls.Total)
				}
				return
			}
			if calls.RateLimited == 0 {
				t.Fatalf("no 429 with each hub counting alone: the test would not see a shared limit fail")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// openRateHubs opens n hubs on one new table, their rate-limit writes through rows.
func openRateHubs(t *testing.T, endpoint string, n int, rows *rateRows) []*app.Hub {
	t.Helper()
	name := unique("ponte-rl")
	var hs []*app.Hub
	for range n {
		h, err := app.OpenAWS(context.Background(), app.AWSConfig{
			Endpoint: endpoint, Region: "us-east-1", Create: true, NamePrefix: name, Table: name,
			PushQueueURLs: map[string]string{}, PushDLQURLs: map[string]string{}, SecretsPrefix: name + "/",
			APIOptions: []func(*middleware.Stack) error{rows.option},
		}, quietLogger())
		if err != nil {
			t.Fatalf("open hub on %s: %v", endpoint, err)
		}
		t.Cleanup(func() { _ = h.Close() })
		hs = append(hs, h)
	}
	return hs
}
