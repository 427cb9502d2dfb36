package push_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/tray"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
	"github.com/ponte-hub/ponte/internal/push"
	"github.com/ponte-hub/ponte/internal/queue"
	storesqlite "github.com/ponte-hub/ponte/internal/store/sqlite"
	"github.com/ponte-hub/ponte/internal/worker"
)

type fixture struct {
	ctx   context.Context
	store *storesqlite.Store
	sim   *traysim.Server
	svc   *push.Service
	conn  domain.Connection
}

func newFixture(t *testing.T, rules domain.Rules) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := storesqlite.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	sim := traysim.New(traysim.Options{})
	base, err := sim.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddStore("s1", traysim.StoreConfig{ConsumerKey: "ck", ConsumerSecret: "cs", Code: "code"})
	for _, id := range []string{"11", "12"} {
		sim.AddProduct("s1", id, 0, decimal.Zero)
	}
	conn := domain.Connection{ID: "c1", Tenant: "t1", Platform: "tray", Enabled: true, SecretRef: "c1", Currency: "BRL", Rules: rules,
		Settings: map[string]string{"api_address": traysim.APIAddress(base, "s1"), "store_id": "1"}}
	must(t, st.PutConnection(ctx, conn))
	must(t, st.PutSecret(ctx, "c1", map[string]string{"consumer_key": "ck", "consumer_secret": "cs", "code": "code"}))
	for sku, pid := range map[string]string{"A": "11", "B": "12", "GONE": "99"} {
		must(t, st.PutMapping(ctx, domain.Mapping{Tenant: "t1", ConnectionID: "c1", SKU: sku, ProductID: pid}))
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := &push.Service{Store: st, Now: time.Now, Log: log,
		Connectors: map[string]platform.Connector{"tray": tray.New(st, tray.Options{Logger: log})}}
	return &fixture{ctx: ctx, store: st, sim: sim, svc: svc, conn: conn}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) desire(t *testing.T, sku string, rev int64, stock int64, price string) {
	t.Helper()
	d := domain.DesiredState{Tenant: "t1", ConnectionID: "c1", SKU: sku, Rev: rev, Stock: &stock, ComputedAt: time.Now().UTC()}
	if price != "" {
		m := domain.MustMoney(price, "BRL")
		d.Price = &m
	}
	must(t, f.store.PutDesired(f.ctx, d))
}

func (f *fixture) puts() int64 {
	var n int64
	for ep, c := range f.sim.Calls("s1").ByEndpoint {
		if strings.HasPrefix(ep, "PUT") {
			n += c
		}
	}
	return n
}

func TestPushWritesOnlyWhatDiffers(t *testing.T) {
	f := newFixture(t, domain.Rules{})
	f.desire(t, "A", 1, 7, "19.90")
	f.desire(t, "B", 1, 3, "")
	errs := f.svc.PushSKUs(f.ctx, "t1", "c1", []string{"A", "B"})
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("push errors %v", errs)
	}
	if p, _ := f.sim.Product("s1", "11"); p.Stock != 7 || !p.Price.Equal(decimal.RequireFromString("19.90")) {
		t.Fatalf("store holds %+v", p)
	}
	if p, _ := f.sim.Product("s1", "12"); p.Stock != 3 {
		t.Fatalf("store holds %+v", p)
	}
	pushed, err := f.store.GetPushed(f.ctx, "t1", "c1", "A")
	if err != nil || pushed.Rev != 1 || *pushed.Stock != 7 || pushed.PushedAt.IsZero() {
		t.Fatalf("pushed %+v err %v", pushed, err)
	}
	calls := f.puts()
	// Same desired state again: no platform call at all.
	if errs := f.svc.PushSKUs(f.ctx, "t1", "c1", []string{"A", "B", "A"}); errs[0] != nil {
		t.Fatal(errs)
	}
	if f.puts() != calls {
		t.Fatalf("pushed again without a difference: %d -> %d calls", calls, f.puts())
	}
	// A newer desired state with only the stock changed pushes again, once.
	f.desire(t, "A", 2, 6, "19.90")
	if errs := f.svc.PushSKUs(f.ctx, "t1", "c1", []string{"A"}); errs[0] != nil {
		t.Fatal(errs)
	}
	if f.puts() != calls+1 {
		t.Fatalf("want exactly one more call, got %d", f.puts()-calls)
	}
}

func TestPushFailures(t *testing.T) {
	guard := decimal.NewFromInt(30)
	tests := []struct {
		name      string
		setup     func(t *testing.T, f *fixture)
		sku       string
		wantDead  string
		wantRetry time.Duration
		check     func(t *testing.T, f *fixture)
	}{
		{
			name: "price drop over the guard keeps the price, pushes the stock, dead-letters with the reason",
			setup: func(t *testing.T, f *fixture) {
				f.desire(t, "A", 1, 5, "100.00")
				must(t, errors.Join(f.svc.PushSKUs(f.ctx, "t1", "c1", []string{"A"})...))
				f.desire(t, "A", 2, 4, "50.00")
			},
			sku: "A", wantDead: "50.0% below the last pushed 100.00 BRL",
			check: func(t *testing.T, f *fixture) {
				p, _ := f.sim.Product("s1", "11")
				if p.Stock != 4 || !p.Price.Equal(decimal.NewFromInt(100)) {
					t.Fatalf("store holds stock %d price %s", p.Stock, p.Price)
				}
			},
		},
		{
			name: "429 retries after the platform's hint",
			setup: func(t *testing.T, f *fixture) {
				f.desire(t, "A", 1, 5, "")
				must(t, errors.Join(f.svc.PushSKUs(f.ctx, "t1", "c1", []string{"A"})...)) // obtains the token
				f.desire(t, "A", 2, 6, "")
				f.sim.InjectFault("s1", traysim.Fault{Kind: traysim.FaultRateLimit, RetryAfter: 7 * time.Second})
			},
			sku: "A", wantRetry: 7 * time.Second,
		},
		{
			name: "5xx is retried with the worker's backoff",
			setup: func(t *testing.T, f *fixture) {
				f.desire(t, "A", 1, 5, "")
				must(t, errors.Join(f.svc.PushSKUs(f.ctx, "t1", "c1", []string{"A"})...))
				f.desire(t, "A", 2, 6, "")
				f.sim.InjectFault("s1", traysim.Fault{Kind: traysim.FaultServerError})
			},
			sku: "A", wantRetry: -1,
		},
		{
			name:  "product missing on the platform is dead-lettered",
			setup: func(t *testing.T, f *fixture) { f.desire(t, "GONE", 1, 5, "") },
			sku:   "GONE", wantDead: "refused",
		},
		{
			name: "a refused price does not hold back the stock: the stock goes alone, the price is dead-lettered with the store's reason",
			setup: func(t *testing.T, f *fixture) {
				f.sim.RefusePrices("s1", "preço fora da faixa permitida")
				f.desire(t, "A", 1, 5, "19.90")
			},
			sku: "A", wantDead: "push of price for SKU A on c1 refused: tray push: permanent (HTTP 400): PUT /products/11: Bad Request: preço fora da faixa permitida (stock pushed)",
			check: func(t *testing.T, f *fixture) {
				p, _ := f.sim.Product("s1", "11")
				if p.Stock != 5 || !p.Price.IsZero() {
					t.Fatalf("store holds stock %d price %s, want stock 5 and the price untouched", p.Stock, p.Price)
				}
				pushed, err := f.store.GetPushed(f.ctx, "t1", "c1", "A")
				if err != nil || pushed.Stock == nil || *pushed.Stock != 5 || pushed.Price != nil {
					t.Fatalf("pushed %+v (%v), want stock 5 recorded and no price", pushed, err)
				}
				// One combined call refused, then stock and price on their own.
				if f.puts() != 3 {
					t.Fatalf("%d PUTs, want 3", f.puts())
				}
				// Only the price is pending now: it goes alone, is refused alone.
				err = f.svc.PushSKUs(f.ctx, "t1", "c1", []string{"A"})[0]
				var dead *worker.DeadError
				if !errors.As(err, &dead) || strings.Contains(dead.Reason, "stock pushed") || f.puts() != 4 {
					t.Fatalf("price-only push: %v after %d PUTs", err, f.puts())
				}
				// The store takes prices again: the retry brings it in line.
				f.sim.RefusePrices("s1", "")
				must(t, f.svc.PushSKUs(f.ctx, "t1", "c1", []string{"A"})[0])
				if p, _ := f.sim.Product("s1", "11"); !p.Price.Equal(decimal.RequireFromString("19.90")) || p.Stock != 5 {
					t.Fatalf("after the store takes prices: %+v", p)
				}
			},
		},
		{
			name:  "when every part is refused the first answer stands",
			setup: func(t *testing.T, f *fixture) { f.desire(t, "GONE", 1, 5, "10.00") },
			sku:   "GONE", wantDead: "push of stock+price for SKU GONE on c1 refused: tray push: permanent (HTTP 404): product 99 (sku GONE) not found on Tray",
			check: func(t *testing.T, f *fixture) {
				if _, err := f.store.GetPushed(f.ctx, "t1", "c1", "GONE"); err == nil {
					t.Fatalf("a push nothing of which went out was recorded")
				}
			},
		},
		{
			name:  "unmapped SKU is dead-lettered",
			setup: func(t *testing.T, f *fixture) { f.desire(t, "NOMAP", 1, 5, "") },
			sku:   "NOMAP", wantDead: "not mapped",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, domain.Rules{MaxPriceDropPct: &guard})
			tt.setup(t, f)
			err := f.svc.PushSKUs(f.ctx, "t1", "c1", []string{tt.sku})[0]
			var dead *worker.DeadError
			var retry *worker.RetryError
			switch {
			case tt.wantDead != "":
				if !errors.As(err, &dead) || !strings.Contains(dead.Reason, tt.wantDead) {
					t.Fatalf("want dead-letter containing %q, got %v", tt.wantDead, err)
				}
			case tt.wantRetry != 0:
				if !errors.As(err, &retry) {
					t.Fatalf("want retry, got %v", err)
				}
				if tt.wantRetry > 0 && retry.After != tt.wantRetry {
					t.Fatalf("retry after %s, want %s", retry.After, tt.wantRetry)
				}
			}
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}

func TestHandleBatchSharesResultsAndRejectsGarbage(t *testing.T) {
	f := newFixture(t, domain.Rules{})
	f.desire(t, "A", 1, 9, "")
	msgs := []struct{ body string }{
		{`{"tenant":"t1","connection":"c1","sku":"A","rev":1}`},
		{`not json`},
		{`{"tenant":"t1","connection":"c1","sku":"A","rev":1}`},
		{`{"tenant":"t2","connection":"c1","sku":"A","rev":1}`},
	}
	var in []queue.Message
	for _, m := range msgs {
		in = append(in, queue.Message{Body: []byte(m.body)})
	}
	errs := f.svc.HandleBatch(f.ctx, in)
	var dead *worker.DeadError
	if errs[0] != nil || errs[2] != nil || !errors.As(errs[1], &dead) || !errors.As(errs[3], &dead) {
		t.Fatalf("errors %v", errs)
	}
	if !strings.Contains(errs[3].Error(), "does not belong to tenant") {
		t.Fatalf("cross-tenant message: %v", errs[3])
	}
	if f.puts() != 1 {
		t.Fatalf("two messages for one SKU should cost one call, got %d", f.puts())
	}
}
