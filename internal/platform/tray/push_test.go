package tray

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
)

func TestPush(t *testing.T) {
	tests := []struct {
		name      string
		update    platform.Update
		wantPath  string
		wantBody  string
		wantStock int64
		wantPrice string // selling price the sim holds
		wantList  string // Tray "price" when a promotion is set
	}{
		{
			name:     "stock only",
			update:   platform.Update{Target: platform.Target{SKU: "A", ProductID: "1"}, Stock: i64(7)},
			wantPath: traysim.EpProductPut, wantBody: `{"Product":{"stock":7}}`, wantStock: 7, wantPrice: "10.00",
		},
		{
			name:     "price and cost",
			update:   platform.Update{Target: platform.Target{SKU: "A", ProductID: "1"}, Price: brl("19.9"), Cost: brl("8.5")},
			wantPath: traysim.EpProductPut, wantBody: `{"Product":{"cost_price":"8.50","price":"19.90"}}`, wantStock: 5, wantPrice: "19.90",
		},
		{
			name: "stock and price with a list price in one PUT",
			update: platform.Update{Target: platform.Target{SKU: "A", ProductID: "1"}, Stock: i64(3),
				Price: brl("79.90"), ListPrice: brl("99.90")},
			wantPath: traysim.EpProductPut, wantBody: `{"Product":{"price":"99.90","promotional_price":"79.90","stock":3}}`,
			wantStock: 3, wantPrice: "79.90", wantList: "99.90",
		},
		{
			name: "list price not above price is ignored",
			update: platform.Update{Target: platform.Target{SKU: "A", ProductID: "1"},
				Price: brl("50.00"), ListPrice: brl("40.00")},
			wantPath: traysim.EpProductPut, wantBody: `{"Product":{"price":"50.00"}}`, wantStock: 5, wantPrice: "50.00",
		},
		{
			name:     "variant",
			update:   platform.Update{Target: platform.Target{SKU: "A-M", ProductID: "1", VariantID: "11"}, Stock: i64(4), Price: brl("12.5")},
			wantPath: traysim.EpVariantPut, wantBody: `{"Variant":{"price":"12.50","stock":4}}`, wantStock: 4, wantPrice: "12.50",
		},
		{
			name: "full sync product data",
			update: platform.Update{Target: platform.Target{SKU: "A", ProductID: "1"}, Stock: i64(9),
				Product: &domain.ProductData{Name: "Mug", Description: "Blue mug", Brand: "Ponte", EAN: "789", WeightGrams: 350, Published: true}},
			wantPath:  traysim.EpProductPut,
			wantBody:  `{"Product":{"available":1,"brand":"Ponte","description":"Blue mug","ean":"789","name":"Mug","stock":9,"weight":350}}`,
			wantStock: 9, wantPrice: "10.00",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, traysim.Options{}, nil)
			e.sim.AddProduct(testStore, "1", 5, dec("10.00"))
			e.sim.AddVariant(testStore, "1", "11", 5, dec("10.00"))
			errs := e.c.Push(context.Background(), e.conn, []platform.Update{tt.update})
			if errs[0] != nil {
				t.Fatalf("push: %v", errs[0])
			}
			if got := e.endpoint(tt.wantPath); got != 1 {
				t.Fatalf("%s calls = %d, want exactly 1", tt.wantPath, got)
			}
			puts := e.sim.Puts(testStore)
			if len(puts) != 1 || string(puts[0].Body) != tt.wantBody {
				t.Fatalf("PUT body = %s, want %s", puts[0].Body, tt.wantBody)
			}
			var stock int64
			var price, list string
			if tt.update.VariantID != "" {
				v, _ := e.sim.Variant(testStore, "11")
				stock, price = v.Stock, v.Price.StringFixed(2)
			} else {
				p, _ := e.sim.Product(testStore, "1")
				stock, price = p.Stock, p.Price.StringFixed(2)
				if p.PromotionalPrice.IsPositive() {
					list, price = price, p.PromotionalPrice.StringFixed(2)
				}
			}
			if stock != tt.wantStock || price != tt.wantPrice || list != tt.wantList {
				t.Fatalf("sim holds stock %d price %s list %q; want %d %s %q", stock, price, list, tt.wantStock, tt.wantPrice, tt.wantList)
			}
		})
	}
}

func TestPushObserverAndManyUpdates(t *testing.T) {
	var writes []int64
	e := newEnv(t, traysim.Options{OnStockWrite: func(_, _, _ string, stock int64, _ time.Time) {
		writes = append(writes, stock) // one update at a time below (MaxConcurrency 1)
	}}, nil)
	e.c = New(e.secrets, Options{MaxConcurrency: 1})
	seedProducts(e.sim, 3)
	ups := []platform.Update{
		{Target: platform.Target{SKU: "a", ProductID: "1"}, Stock: i64(1)},
		{Target: platform.Target{SKU: "b", ProductID: "2"}, Stock: i64(0)}, // unchanged: no observer call
		{Target: platform.Target{SKU: "c", ProductID: "3"}, Stock: i64(3)},
		{Target: platform.Target{SKU: "d", ProductID: "3"}},                   // nothing to send
		{Target: platform.Target{SKU: "e", ProductID: "../x"}, Stock: i64(1)}, // rejected before calling
	}
	errs := e.c.Push(context.Background(), e.conn, ups)
	for i, err := range errs[:4] {
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	if kindOf(errs[4]) != platform.Permanent {
		t.Fatalf("bad id: got %v, want permanent", errs[4])
	}
	if len(writes) != 2 || writes[0] != 1 || writes[1] != 3 {
		t.Fatalf("observer saw %v, want [1 3]", writes)
	}
	if got := e.endpoint(traysim.EpProductPut); got != 3 {
		t.Fatalf("PUTs = %d, want 3", got)
	}
}

func TestPushErrors(t *testing.T) {
	tests := []struct {
		name     string
		fault    *traysim.Fault
		settings map[string]string
		product  string
		wantKind platform.Kind
		wantMsg  string
	}{
		{name: "5xx", fault: &traysim.Fault{Kind: traysim.FaultServerError}, wantKind: platform.Transient, wantMsg: "HTTP 500"},
		{name: "timeout", fault: &traysim.Fault{Kind: traysim.FaultHang, Delay: 3 * time.Second},
			settings: map[string]string{"timeout_ms": "150"}, wantKind: platform.Transient, wantMsg: "timeout"},
		{name: "malformed body", fault: &traysim.Fault{Kind: traysim.FaultMalformed}, wantKind: platform.Transient, wantMsg: "unexpected body"},
		{name: "truncated body", fault: &traysim.Fault{Kind: traysim.FaultTruncated}, wantKind: platform.Transient, wantMsg: "truncated"},
		{name: "404", product: "999", wantKind: platform.Permanent, wantMsg: "product 999 (sku S) not found on Tray"},
		{name: "currency mismatch", product: "usd", wantKind: platform.Permanent, wantMsg: "USD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, traysim.Options{}, tt.settings)
			seedProducts(e.sim, 1)
			// Bootstrap the token first so the fault hits the PUT.
			if errs := e.c.Push(context.Background(), e.conn, []platform.Update{{Target: platform.Target{SKU: "S", ProductID: "1"}, Stock: i64(1)}}); errs[0] != nil {
				t.Fatal(errs[0])
			}
			if tt.fault != nil {
				e.sim.InjectFault(testStore, *tt.fault)
			}
			u := platform.Update{Target: platform.Target{SKU: "S", ProductID: "1"}, Stock: i64(2)}
			switch tt.product {
			case "usd":
				m := domain.MustMoney("1.00", "USD")
				u.Price = &m
			case "":
			default:
				u.ProductID = tt.product
			}
			err := e.c.Push(context.Background(), e.conn, []platform.Update{u})[0]
			if err == nil || kindOf(err) != tt.wantKind || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("got %v (kind %v), want %v containing %q", err, kindOf(err), tt.wantKind, tt.wantMsg)
			}
			tok := e.secrets.get("tray/conn1")["access_token"]
			if tok == "" || strings.Contains(err.Error(), tok) {
				t.Fatalf("error leaks the access token or no token saved: %v", err)
			}
		})
	}
}

func TestRateLimited429HonoursRetryAfter(t *testing.T) {
	e := newEnv(t, traysim.Options{}, nil)
	seedProducts(e.sim, 1)
	u := []platform.Update{{Target: platform.Target{SKU: "S", ProductID: "1"}, Stock: i64(2)}}
	if errs := e.c.Push(context.Background(), e.conn, u); errs[0] != nil {
		t.Fatal(errs[0])
	}
	e.sim.InjectFault(testStore, traysim.Fault{Kind: traysim.FaultRateLimit, Count: 3, RetryAfter: time.Second})
	err := e.c.Push(context.Background(), e.conn, u)[0]
	pe := platform.AsError(err)
	if pe.Kind != platform.RateLimited || pe.RetryAfter != time.Second || pe.StatusCode != 429 {
		t.Fatalf("got %+v, want rate_limited with RetryAfter 1s", pe)
	}
	// The connection now holds every call for the wait hint before trying again.
	start := time.Now()
	_ = e.c.Push(context.Background(), e.conn, u)
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Fatalf("next call went out after %v, before the 1s Retry-After", waited)
	}
	if got := e.c.Stats().RateLimited; got != 2 {
		t.Fatalf("429s seen = %d, want 2", got)
	}
}

// TestLimiterPrevents429 drives a burst larger than the limit against a simulator
// enforcing the same limit. The window is shrunk to a second on both sides (same
// algorithm, scaled time); TestLimiterRealMinute runs the real minute.
func TestLimiterPrevents429(t *testing.T) {
	e := newEnv(t, traysim.Options{RateLimitPerMin: 20, RateWindow: time.Second}, map[string]string{"rate_limit_per_min": "20"})
	e.c.opts.RateWindow = time.Second
	e.c.opts.MaxConcurrency = 16
	burstWithout429(t, e, 70)
}

func TestLimiterRealMinute(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a minute")
	}
	e := newEnv(t, traysim.Options{RateLimitPerMin: 20}, map[string]string{"rate_limit_per_min": "20"})
	burstWithout429(t, e, 24)
}

func burstWithout429(t *testing.T, e *env, n int) {
	t.Helper()
	seedProducts(e.sim, n)
	ups := make([]platform.Update, n)
	for i := range ups {
		ups[i] = platform.Update{Target: platform.Target{SKU: "s", ProductID: strconv.Itoa(i + 1)}, Stock: i64(int64(i + 1))}
	}
	for i, err := range e.c.Push(context.Background(), e.conn, ups) {
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	calls := e.sim.Calls(testStore)
	if calls.RateLimited != 0 {
		t.Fatalf("simulator answered %d 429s", calls.RateLimited)
	}
	if calls.ByEndpoint[traysim.EpProductPut] != int64(n) || e.c.Stats().HTTPCalls != int64(n)+1 {
		t.Fatalf("calls: sim %v, connector %d; want %d PUTs + 1 auth", calls.ByEndpoint, e.c.Stats().HTTPCalls, n)
	}
}

func TestDailyLimit(t *testing.T) {
	e := newEnv(t, traysim.Options{}, map[string]string{"daily_limit": "3"})
	seedProducts(e.sim, 5)
	ups := make([]platform.Update, 5)
	for i := range ups {
		ups[i] = platform.Update{Target: platform.Target{SKU: "s", ProductID: strconv.Itoa(i + 1)}, Stock: i64(1)}
	}
	e.c.opts.MaxConcurrency = 1
	errs := e.c.Push(context.Background(), e.conn, ups)
	limited := 0
	for _, err := range errs {
		if err != nil {
			pe := platform.AsError(err)
			if pe.Kind != platform.RateLimited || pe.RetryAfter <= 0 || pe.RetryAfter > 24*time.Hour {
				t.Fatalf("got %+v, want rate_limited until midnight", pe)
			}
			limited++
		}
	}
	// The budget of 3 is one token grant and two PUTs.
	if limited != 3 || e.sim.Calls(testStore).Total != 3 {
		t.Fatalf("limited %d, sim calls %d; want 3 and 3", limited, e.sim.Calls(testStore).Total)
	}
}

func TestReadBack(t *testing.T) {
	e := newEnv(t, traysim.Options{}, nil)
	e.sim.AddProduct(testStore, "1", 5, dec("10.00"))
	e.sim.AddVariant(testStore, "1", "11", 8, dec("12.50"))
	// A promotion: read-back reports the selling price.
	if errs := e.c.Push(context.Background(), e.conn, []platform.Update{{Target: platform.Target{SKU: "A", ProductID: "1"},
		Price: brl("7.90"), ListPrice: brl("9.90")}}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	snaps, err := e.c.ReadBack(context.Background(), e.conn, []platform.Target{
		{SKU: "A", ProductID: "1"}, {SKU: "A-M", ProductID: "1", VariantID: "11"}, {SKU: "gone", ProductID: "404"}})
	if err == nil || kindOf(err) != platform.Permanent {
		t.Fatalf("missing product: got %v, want a permanent error", err)
	}
	if len(snaps) != 2 {
		t.Fatalf("snapshots = %d, want 2", len(snaps))
	}
	got, _ := json.Marshal([]any{*snaps[0].Stock, snaps[0].Price.String(), *snaps[1].Stock, snaps[1].Price.String()})
	if string(got) != `[5,"7.90 BRL",8,"12.50 BRL"]` {
		t.Fatalf("read back %s", got)
	}
}

func TestReadBackGarbage(t *testing.T) {
	for _, kind := range []traysim.FaultKind{traysim.FaultMalformed, traysim.FaultTruncated} {
		e := newEnv(t, traysim.Options{}, nil)
		seedProducts(e.sim, 1)
		if _, err := e.c.ReadBack(context.Background(), e.conn, []platform.Target{{ProductID: "1"}}); err != nil {
			t.Fatal(err)
		}
		e.sim.InjectFault(testStore, traysim.Fault{Kind: kind})
		if _, err := e.c.ReadBack(context.Background(), e.conn, []platform.Target{{ProductID: "1"}}); kindOf(err) != platform.Transient {
			t.Fatalf("fault %d: got %v, want transient", kind, err)
		}
	}
}
