package nuvemshop

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/nuvemshop/nuvemshopsim"
)

// TestPushBatchesSplit pushes more updates than one PATCH /products/stock-price takes
// and checks they are split in batches of at most 50 variants.
func TestPushBatchesSplit(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		settings  map[string]string
		update    func(i int) platform.Update
		wantCalls int64
		check     func(t *testing.T, e *env, i int)
	}{
		{
			name: "stock", n: 120, wantCalls: 3,
			update: func(i int) platform.Update { return platform.Update{Target: target(i), Stock: i64(int64(i))} },
			check: func(t *testing.T, e *env, i int) {
				if got := e.stock(i); got != int64(i) {
					t.Fatalf("variant %d stock %d", i, got)
				}
			},
		},
		{
			name: "price", n: 51, wantCalls: 2,
			update: func(i int) platform.Update { return platform.Update{Target: target(i), Price: brl("19.90")} },
			check: func(t *testing.T, e *env, i int) {
				if v, _ := e.sim.Variant(testStore, vid(i)); v.Price.StringFixed(2) != "19.90" {
					t.Fatalf("variant %d price %s", i, v.Price)
				}
			},
		},
		{
			name: "stock and price, batch_size 20", n: 45, wantCalls: 3, settings: map[string]string{"batch_size": "20"},
			update: func(i int) platform.Update {
				return platform.Update{Target: target(i), Stock: i64(7), Price: brl("5")}
			},
			check: func(t *testing.T, e *env, i int) {
				if v, _ := e.sim.Variant(testStore, vid(i)); v.Price.StringFixed(2) != "5.00" || *v.Stock != 7 {
					t.Fatalf("variant %d: price %s stock %d", i, v.Price, *v.Stock)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nuvemshopsim.Options{}, tt.settings)
			e.seed(tt.n)
			ups := make([]platform.Update, tt.n)
			for i := range ups {
				ups[i] = tt.update(i + 1)
			}
			for i, err := range e.c.Push(context.Background(), e.conn, ups) {
				if err != nil {
					t.Fatalf("update %d: %v", i, err)
				}
			}
			calls := e.calls()
			if got := calls.ByEndpoint[nuvemshopsim.EpStockPrice]; got != tt.wantCalls || calls.Writes != tt.wantCalls {
				t.Fatalf("stock-price calls %d, writes %d; want %d", got, calls.Writes, tt.wantCalls)
			}
			for _, w := range e.sim.Writes(testStore) {
				var body []struct {
					Variants []json.RawMessage `json:"variants"`
				}
				if err := json.Unmarshal(w.Body, &body); err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, p := range body {
					n += len(p.Variants)
				}
				if n > MaxBatchSize {
					t.Fatalf("a batch carried %d variants", n)
				}
			}
			for i := 1; i <= tt.n; i++ {
				tt.check(t, e, i)
			}
		})
	}
}

func TestPushBodyShape(t *testing.T) {
	e := newEnv(t, nuvemshopsim.Options{}, map[string]string{"location_id": "01LOC"})
	e.seed(2)
	if err := e.sim.AddVariant(testStore, "1", "2001", "sku-1b", 0, dec("10")); err != nil {
		t.Fatal(err)
	}
	ups := []platform.Update{
		{Target: target(1), Stock: i64(3), Price: brl("12.5")},
		{Target: platform.Target{SKU: "sku-1b", ProductID: "1", VariantID: "2001"}, Stock: i64(4)},
		{Target: target(2), Price: brl("7")},
	}
	for i, err := range e.c.Push(context.Background(), e.conn, ups) {
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	w := e.sim.Writes(testStore)
	want := `[{"id":1,"variants":[{"id":1001,"price":12.50,"inventory_levels":[{"location_id":"01LOC","stock":3}]},` +
		`{"id":2001,"inventory_levels":[{"location_id":"01LOC","stock":4}]}]},{"id":2,"variants":[{"id":1002,"price":7.00}]}]`
	if len(w) != 1 || string(w[0].Body) != want {
		t.Fatalf("writes %d, body\n%s\nwant\n%s", len(w), w[0].Body, want)
	}
}

func TestPushSlowPaths(t *testing.T) {
	tests := []struct {
		name      string
		update    platform.Update
		wantEps   map[string]int64
		wantPrice string
		wantPromo string
		wantCost  string
		check     func(t *testing.T, e *env)
	}{
		{
			name:    "cost goes with a variant PUT",
			update:  platform.Update{Target: target(1), Stock: i64(2), Price: brl("20"), Cost: brl("8.5")},
			wantEps: map[string]int64{nuvemshopsim.EpVariantPut: 1}, wantPrice: "20.00", wantCost: "8.50",
		},
		{
			name:    "list price above price sets a promotion",
			update:  platform.Update{Target: target(1), Price: brl("79.90"), ListPrice: brl("99.90")},
			wantEps: map[string]int64{nuvemshopsim.EpVariantPut: 1}, wantPrice: "99.90", wantPromo: "79.90",
		},
		{
			name:    "list price not above price clears the promotion",
			update:  platform.Update{Target: target(1), Price: brl("50"), ListPrice: brl("40")},
			wantEps: map[string]int64{nuvemshopsim.EpVariantPut: 1}, wantPrice: "50.00",
		},
		{
			name: "product data",
			update: platform.Update{Target: target(1), Stock: i64(9), Product: &domain.ProductData{
				Name: "Caneca", Description: "Azul", Brand: "Ponte", EAN: "7891234567895", WeightGrams: 350, Published: true}},
			wantEps: map[string]int64{nuvemshopsim.EpVariantPut: 1, nuvemshopsim.EpProductPut: 1}, wantPrice: "10.00",
			check: func(t *testing.T, e *env) {
				p, _ := e.sim.Product(testStore, "1")
				v, _ := e.sim.Variant(testStore, vid(1))
				if p.Name != "Caneca" || p.Description != "Azul" || p.Brand != "Ponte" || !p.Published ||
					v.Barcode != "7891234567895" || v.Weight != "0.350" || *v.Stock != 9 {
					t.Fatalf("product %+v variant %+v", p, v)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nuvemshopsim.Options{}, nil)
			e.seed(1)
			if err := e.c.Push(context.Background(), e.conn, []platform.Update{tt.update})[0]; err != nil {
				t.Fatal(err)
			}
			calls := e.calls()
			for ep, n := range tt.wantEps {
				if calls.ByEndpoint[ep] != n {
					t.Fatalf("%s: %d calls, want %d (all: %v)", ep, calls.ByEndpoint[ep], n, calls.ByEndpoint)
				}
			}
			if calls.ByEndpoint[nuvemshopsim.EpStockPrice] != 0 {
				t.Fatalf("unexpected stock-price call")
			}
			v, _ := e.sim.Variant(testStore, vid(1))
			got := func(d interface{ StringFixed(int32) string }, isNil bool) string {
				if isNil {
					return ""
				}
				return d.StringFixed(2)
			}
			if v.Price.StringFixed(2) != tt.wantPrice {
				t.Fatalf("price %s, want %s", v.Price, tt.wantPrice)
			}
			if p := got(v.PromotionalPrice, v.PromotionalPrice == nil); p != tt.wantPromo {
				t.Fatalf("promotional price %q, want %q", p, tt.wantPromo)
			}
			if c := got(v.Cost, v.Cost == nil); c != tt.wantCost {
				t.Fatalf("cost %q, want %q", c, tt.wantCost)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

func TestPushValidation(t *testing.T) {
	e := newEnv(t, nuvemshopsim.Options{}, nil)
	e.seed(1)
	usd := domain.MustMoney("1", "USD")
	ups := []platform.Update{
		{Target: platform.Target{SKU: "a", ProductID: "../1", VariantID: "1001"}, Stock: i64(1)},
		{Target: platform.Target{SKU: "b", ProductID: "1"}, Stock: i64(1)},
		{Target: target(1), Stock: i64(-1)},
		{Target: target(1), Price: &usd},
		{Target: target(1)}, // nothing to write
	}
	errs := e.c.Push(context.Background(), e.conn, ups)
	for i, want := range []string{"invalid Nuvemshop product id", "needs a variant id", "negative stock", "USD", ""} {
		if want == "" {
			if errs[i] != nil {
				t.Fatalf("update %d: %v", i, errs[i])
			}
			continue
		}
		if errs[i] == nil || kindOf(errs[i]) != platform.Permanent || !strings.Contains(errs[i].Error(), want) {
			t.Fatalf("update %d: %v, want permanent %q", i, errs[i], want)
		}
	}
	if e.calls().Total != 0 {
		t.Fatalf("invalid updates reached the platform: %v", e.calls().ByEndpoint)
	}
}

// TestPushIsolatesBadItems: a batch refused as a whole (422) is split until the bad
// item stands alone; a variant the platform answers success=false fails alone.
func TestPushIsolatesBadItems(t *testing.T) {
	e := newEnv(t, nuvemshopsim.Options{}, nil)
	e.seed(20)
	e.sim.RejectVariant(testStore, vid(7), "The price is above the store's maximum.")
	ups := make([]platform.Update, 21)
	for i := range 20 {
		ups[i] = platform.Update{Target: target(i + 1), Stock: i64(int64(50 + i))}
	}
	ups[20] = platform.Update{Target: platform.Target{SKU: "ghost", ProductID: "999", VariantID: "9999"}, Stock: i64(1)}
	errs := e.c.Push(context.Background(), e.conn, ups)
	for i, err := range errs {
		switch i {
		case 6:
			if kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "above the store's maximum") || !strings.Contains(err.Error(), "sku-7") {
				t.Fatalf("bad item: %v", err)
			}
		case 20:
			if kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "success=false") {
				t.Fatalf("unknown variant: %v", err)
			}
		default:
			if err != nil {
				t.Fatalf("update %d: %v", i, err)
			}
			if got := e.stock(i + 1); got != int64(50+i) {
				t.Fatalf("variant %d stock %d", i+1, got)
			}
		}
	}
	// 1 refused batch of 21, then halves down to the bad one: at most 1+2*ceil(log2 21).
	if n := e.calls().ByEndpoint[nuvemshopsim.EpStockPrice]; n < 3 || n > 11 {
		t.Fatalf("stock-price calls %d", n)
	}
}

func TestPushErrors(t *testing.T) {
	tests := []struct {
		name     string
		fault    *nuvemshopsim.Fault
		settings map[string]string
		token    string
		wantKind platform.Kind
		wantMsg  string
		wantWait time.Duration
	}{
		{name: "5xx", fault: &nuvemshopsim.Fault{Kind: nuvemshopsim.FaultServerError}, wantKind: platform.Transient, wantMsg: "HTTP 500"},
		{name: "timeout", fault: &nuvemshopsim.Fault{Kind: nuvemshopsim.FaultHang, Delay: 3 * time.Second},
			settings: map[string]string{"timeout_ms": "150"}, wantKind: platform.Transient, wantMsg: "timeout"},
		{name: "malformed body", fault: &nuvemshopsim.Fault{Kind: nuvemshopsim.FaultMalformed}, wantKind: platform.Transient, wantMsg: "unexpected body"},
		{name: "truncated body", fault: &nuvemshopsim.Fault{Kind: nuvemshopsim.FaultTruncated}, wantKind: platform.Transient, wantMsg: "truncated"},
		{name: "revoked token", fault: &nuvemshopsim.Fault{Kind: nuvemshopsim.FaultUnauthorized, Count: 2}, wantKind: platform.Auth, wantMsg: "invalid or revoked"},
		{name: "bad credentials", token: "wrong-token-123456", wantKind: platform.Auth, wantMsg: "invalid or revoked"},
		{name: "429 with reset", fault: &nuvemshopsim.Fault{Kind: nuvemshopsim.FaultRateLimit, Reset: 1500 * time.Millisecond},
			wantKind: platform.RateLimited, wantMsg: "HTTP 429", wantWait: 1500 * time.Millisecond},
		{name: "bad setting", settings: map[string]string{"rate_limit_per_sec": "fast"}, wantKind: platform.Permanent, wantMsg: "rate_limit_per_sec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nuvemshopsim.Options{}, tt.settings)
			e.c = New(e.secrets, Options{MaxConcurrency: 1}) // the batch goes first and meets the fault
			e.seed(3)
			if tt.token != "" {
				e.secrets.set(secretRef, "access_token", tt.token)
			}
			if tt.fault != nil {
				e.sim.InjectFault(testStore, *tt.fault)
			}
			ups := []platform.Update{{Target: target(1), Stock: i64(1)}, {Target: target(2), Stock: i64(2)}, {Target: target(3), Price: brl("1"), Cost: brl("1")}}
			errs := e.c.Push(context.Background(), e.conn, ups)
			err := errs[0]
			if err == nil {
				t.Fatalf("no error, want %v", tt.wantKind)
			}
			pe := platform.AsError(err)
			if pe.Kind != tt.wantKind || !strings.Contains(err.Error(), tt.wantMsg) || pe.RetryAfter != tt.wantWait {
				t.Fatalf("got %v (kind %v, wait %v), want %v with %q wait %v", err, pe.Kind, pe.RetryAfter, tt.wantKind, tt.wantMsg, tt.wantWait)
			}
			if errs[1] == nil || kindOf(errs[1]) != tt.wantKind {
				t.Fatalf("batch mate: %v", errs[1])
			}
			for _, err := range errs {
				if err != nil && (strings.Contains(err.Error(), testToken) || tt.token != "" && strings.Contains(err.Error(), tt.token)) {
					t.Fatalf("error leaks the token: %v", err)
				}
			}
		})
	}
}

// TestRateLimitStorm: 429s with a reset hint are classified, and the connection holds
// every call for the hint; a hint longer than max_wait_ms fails fast without calling.
func TestRateLimitStorm(t *testing.T) {
	e := newEnv(t, nuvemshopsim.Options{}, nil)
	e.seed(1)
	u := []platform.Update{{Target: target(1), Stock: i64(2)}}
	e.sim.InjectFault(testStore, nuvemshopsim.Fault{Kind: nuvemshopsim.FaultRateLimit, Count: 3, Reset: time.Second})
	err := e.c.Push(context.Background(), e.conn, u)[0]
	if pe := platform.AsError(err); pe.Kind != platform.RateLimited || pe.RetryAfter != time.Second || pe.StatusCode != 429 {
		t.Fatalf("got %+v", pe)
	}
	start := time.Now()
	_ = e.c.Push(context.Background(), e.conn, u)
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Fatalf("next call went out after %v, before the 1s reset", waited)
	}
	// A third 429, then a connection that may not wait that long answers at once.
	e.c2(t, map[string]string{"max_wait_ms": "100"}, func(c *Connector, conn domain.Connection) {
		_ = c.Push(context.Background(), conn, u) // gets the third injected 429
		before := e.calls().Total
		start := time.Now()
		err := c.Push(context.Background(), conn, u)[0]
		if pe := platform.AsError(err); pe.Kind != platform.RateLimited || pe.RetryAfter < 500*time.Millisecond {
			t.Fatalf("paused connection: %+v", pe)
		}
		if time.Since(start) > 200*time.Millisecond || e.calls().Total != before {
			t.Fatalf("a paused connection called the platform or waited")
		}
	})
	if got := e.c.Stats().RateLimited; got != 2 {
		t.Fatalf("429s seen by the first connector = %d, want 2", got)
	}
}

// c2 runs f with a second connector and connection settings overrides.
func (e *env) c2(t *testing.T, settings map[string]string, f func(*Connector, domain.Connection)) {
	t.Helper()
	conn := e.conn
	conn.Settings = map[string]string{}
	for k, v := range e.conn.Settings {
		conn.Settings[k] = v
	}
	for k, v := range settings {
		conn.Settings[k] = v
	}
	f(New(e.secrets, Options{}), conn)
}

// TestTokenRotation: Nuvemshop tokens never expire, but a reinstall issues a new one;
// after a 401 the connector re-reads the secret once and carries on.
func TestTokenRotation(t *testing.T) {
	e := newEnv(t, nuvemshopsim.Options{}, nil)
	e.seed(1)
	u := []platform.Update{{Target: target(1), Stock: i64(2)}}
	if err := e.c.Push(context.Background(), e.conn, u)[0]; err != nil {
		t.Fatal(err)
	}
	e.sim.SetToken(testStore, "tok-new-abcdef123456")
	e.secrets.set(secretRef, "access_token", "tok-new-abcdef123456")
	if err := e.c.Push(context.Background(), e.conn, []platform.Update{{Target: target(1), Stock: i64(5)}})[0]; err != nil {
		t.Fatal(err)
	}
	if e.stock(1) != 5 {
		t.Fatalf("stock %d", e.stock(1))
	}
}

// TestLimiterPreventsBurst429 sends a burst far above the bucket to a store whose
// bucket matches the settings: the simulator must never answer 429. The same burst
// with a limiter set looser than the store proves the store does throttle.
func TestLimiterPreventsBurst429(t *testing.T) {
	simOpts := nuvemshopsim.Options{Bucket: 5, PerSec: 25}
	matching := map[string]string{"rate_limit_bucket": "5", "rate_limit_per_sec": "25", "batch_size": "1"}
	e := newEnv(t, simOpts, matching)
	e.c.opts.MaxConcurrency = 8
	e.seed(60)
	ups := make([]platform.Update, 60)
	for i := range ups {
		ups[i] = platform.Update{Target: target(i + 1), Stock: i64(int64(i + 1))}
	}
	for i, err := range e.c.Push(context.Background(), e.conn, ups) {
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	if c := e.calls(); c.RateLimited != 0 || c.Writes != 60 {
		t.Fatalf("simulator: %d 429s, %d writes; want 0 and 60", c.RateLimited, c.Writes)
	}

	loose := newEnv(t, simOpts, map[string]string{"rate_limit_bucket": "500", "rate_limit_per_sec": "500", "batch_size": "1"})
	loose.c.opts.MaxConcurrency = 8
	loose.seed(60)
	limited := 0
	for _, err := range loose.c.Push(context.Background(), loose.conn, ups) {
		if err != nil && kindOf(err) == platform.RateLimited {
			limited++
		}
	}
	if loose.calls().RateLimited == 0 || limited == 0 {
		t.Fatalf("the store never throttled a loose client; the test proves nothing")
	}
}

func TestPushObserver(t *testing.T) {
	var mu sync.Mutex
	var seen []int64
	e := newEnv(t, nuvemshopsim.Options{OnStockWrite: func(_, _, _ string, stock int64, _ time.Time) {
		mu.Lock()
		seen = append(seen, stock)
		mu.Unlock()
	}}, nil)
	e.seed(3)
	ups := []platform.Update{{Target: target(1), Stock: i64(4)}, {Target: target(2), Stock: i64(0)}, {Target: target(3), Stock: i64(6)}}
	for _, err := range e.c.Push(context.Background(), e.conn, ups) {
		if err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0]+seen[1] != 10 {
		t.Fatalf("observer saw %v, want the two changes 4 and 6", seen)
	}
}
