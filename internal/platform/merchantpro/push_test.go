package merchantpro

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/merchantpro/merchantprosim"
)

func TestPushShapes(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]string
		update   platform.Update
		wantBody string
		check    func(t *testing.T, e *env)
	}{
		{
			name:     "stock on a simple product",
			update:   platform.Update{Target: platform.Target{SKU: "S1", ProductID: "1"}, Stock: i64(7)},
			wantBody: `{"stock":7}`,
			check: func(t *testing.T, e *env) {
				if n, _ := e.sim.Stock(testStore, 1, 0); n != 7 {
					t.Fatalf("stock %d", n)
				}
			},
		},
		{
			name:     "price, cost and a list price above it (gross)",
			update:   platform.Update{Target: platform.Target{SKU: "S1", ProductID: "1"}, Price: ron("79.9"), ListPrice: ron("99.90"), Cost: ron("40")},
			wantBody: `{"cost_gross":40.00,"old_price_gross":99.90,"price_gross":79.90}`,
			check: func(t *testing.T, e *env) {
				p, _ := e.sim.Product(testStore, 1)
				if !p.PriceGross.Equal(dec("79.90")) || !p.OldPriceGross.Equal(dec("99.90")) || !p.CostGross.Equal(dec("40")) {
					t.Fatalf("prices %s %s %s", p.PriceGross, p.OldPriceGross, p.CostGross)
				}
			},
		},
		{
			name:     "list price not above the price clears the old price",
			update:   platform.Update{Target: platform.Target{SKU: "S1", ProductID: "1"}, Price: ron("50"), ListPrice: ron("40")},
			wantBody: `{"old_price_gross":0,"price_gross":50.00}`,
		},
		{
			name:     "net price mode",
			settings: map[string]string{"price_mode": "net"},
			update:   platform.Update{Target: platform.Target{SKU: "S1", ProductID: "1"}, Price: ron("12.5")},
			wantBody: `{"price_net":12.50}`,
		},
		{
			name:     "stock and price of a variant, nested in the product",
			update:   platform.Update{Target: platform.Target{SKU: "M9-2", ProductID: "9", VariantID: vid(9, 2)}, Stock: i64(3), Price: ron("55")},
			wantBody: `{"variants":[{"id":9002,"price_gross":55.00,"stock":3}]}`,
			check: func(t *testing.T, e *env) {
				if n, _ := e.sim.Stock(testStore, 9, 9002); n != 3 {
					t.Fatalf("variant stock %d", n)
				}
			},
		},
		{
			name: "full sync: catalogue data on the parent, stock on the variant",
			update: platform.Update{Target: platform.Target{SKU: "M9-1", ProductID: "9", VariantID: vid(9, 1)}, Stock: i64(1),
				Product: &domain.ProductData{Name: "Tricou verde", Description: "Bumbac organic"}},
			wantBody: `{"description":"Bumbac organic","name":"Tricou verde","variants":[{"id":9001,"stock":1}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, merchantprosim.Options{}, tt.settings)
			e.addSimple(1)
			e.addMulti(9, 3)
			errs := e.c.Push(context.Background(), e.conn, []platform.Update{tt.update})
			if errs[0] != nil {
				t.Fatalf("push: %v", errs[0])
			}
			patches := e.sim.Patches(testStore)
			if len(patches) != 1 || string(patches[0].Body) != tt.wantBody {
				t.Fatalf("PATCH bodies %v, want one %s", bodies(patches), tt.wantBody)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

func bodies(ps []merchantprosim.Patch) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID+":"+string(p.Body))
	}
	return out
}

// TestPushBatchesVariants sends 120 variant updates of one product and 3 simple
// products: with 50 variants per PATCH that is 3 PATCHes for the product and 1 each
// for the others.
func TestPushBatchesVariants(t *testing.T) {
	e := newEnv(t, merchantprosim.Options{}, map[string]string{"max_variants_per_patch": "50"})
	e.addSimple(3)
	e.addMulti(7, 120)
	var ups []platform.Update
	for k := int64(1); k <= 120; k++ {
		ups = append(ups, platform.Update{Target: platform.Target{SKU: "v", ProductID: "7", VariantID: vid(7, k)}, Stock: i64(k)})
	}
	for i := 1; i <= 3; i++ {
		ups = append(ups, platform.Update{Target: platform.Target{SKU: "s", ProductID: string(rune('0' + i))}, Stock: i64(int64(i) * 10)})
	}
	errs := e.c.Push(context.Background(), e.conn, ups)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	if got := e.sim.Calls(testStore).Writes; got != 6 {
		t.Fatalf("writes = %d, want 6 (3 for 120 variants at 50 each, 3 simple)", got)
	}
	for k := int64(1); k <= 120; k++ {
		if n, _ := e.sim.Stock(testStore, 7, 7000+k); n != k {
			t.Fatalf("variant %d stock %d", k, n)
		}
	}
	var sizes []int
	for _, p := range e.sim.Patches(testStore) {
		if p.ID == "7" {
			var b struct{ Variants []any }
			_ = json.Unmarshal(p.Body, &b)
			sizes = append(sizes, len(b.Variants))
		}
	}
	total := 0
	for _, n := range sizes {
		if n > 50 {
			t.Fatalf("a PATCH carried %d variants", n)
		}
		total += n
	}
	if total != 120 || len(sizes) != 3 {
		t.Fatalf("variant chunks %v", sizes)
	}
}

// TestPushIsolatesBadVariant: one unknown variant id makes the shop reject the whole
// PATCH; the connector bisects so the 15 good variants land and only the bad one fails.
func TestPushIsolatesBadVariant(t *testing.T) {
	e := newEnv(t, merchantprosim.Options{}, nil)
	e.addMulti(5, 15)
	var ups []platform.Update
	for k := int64(1); k <= 16; k++ {
		ups = append(ups, platform.Update{Target: platform.Target{SKU: "v", ProductID: "5", VariantID: vid(5, k)}, Stock: i64(2)})
	}
	errs := e.c.Push(context.Background(), e.conn, ups)
	for i, err := range errs[:15] {
		if err != nil {
			t.Fatalf("good update %d failed: %v", i, err)
		}
	}
	pe := platform.AsError(errs[15])
	if pe.Kind != platform.Permanent || !strings.Contains(pe.Message, "5016") {
		t.Fatalf("bad variant: %v", errs[15])
	}
	for k := int64(1); k <= 15; k++ {
		if n, _ := e.sim.Stock(testStore, 5, 5000+k); n != 2 {
			t.Fatalf("variant %d not written", k)
		}
	}
	if w := e.sim.Calls(testStore).Writes; w > 10 {
		t.Fatalf("isolation took %d writes; bisection should need about 2·log2(16)+1", w)
	}
}

func TestPushErrors(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]string
		setup    func(e *env)
		update   platform.Update
		kind     platform.Kind
		contains string
	}{
		{"unknown product", nil, nil,
			platform.Update{Target: platform.Target{SKU: "X", ProductID: "404"}, Stock: i64(1)}, platform.Permanent, "not found"},
		{"stock on a multi_variant parent is refused with the shop's message", nil, nil,
			platform.Update{Target: platform.Target{SKU: "M9", ProductID: "9"}, Stock: i64(1)}, platform.Permanent, "set on its variants"},
		{"negative stock never leaves", nil, nil,
			platform.Update{Target: platform.Target{SKU: "S1", ProductID: "1"}, Stock: i64(-1)}, platform.Permanent, "negative"},
		{"currency mismatch", nil, nil,
			platform.Update{Target: platform.Target{SKU: "S1", ProductID: "1"}, Price: &domain.Money{Amount: dec("1"), Currency: "EUR"}}, platform.Permanent, "EUR"},
		{"path tricks in ids", nil, nil,
			platform.Update{Target: platform.Target{SKU: "S1", ProductID: "../1"}, Stock: i64(1)}, platform.Permanent, "invalid"},
		{"invalid setting is named", map[string]string{"rate_limit": "many"}, nil,
			platform.Update{Target: platform.Target{SKU: "S1", ProductID: "1"}, Stock: i64(1)}, platform.Permanent, "rate_limit"},
		{"missing base_url", map[string]string{"base_url": ""}, func(e *env) { delete(e.conn.Settings, "base_url") },
			platform.Update{Target: platform.Target{SKU: "S1", ProductID: "1"}, Stock: i64(1)}, platform.Permanent, "base_url"},
		{"500", nil, func(e *env) {
			e.sim.InjectFault(testStore, merchantprosim.Fault{Kind: merchantprosim.FaultServerError})
		},
			platform.Update{Target: platform.Target{SKU: "S1", ProductID: "1"}, Stock: i64(1)}, platform.Transient, "500"},
		{"502 html", nil, func(e *env) { e.sim.InjectFault(testStore, merchantprosim.Fault{Kind: merchantprosim.FaultBadGateway}) },
			platform.Update{Target: platform.Target{SKU: "S1", ProductID: "1"}, Stock: i64(1)}, platform.Transient, "Bad Gateway"},
		{"malformed 200 body", nil, func(e *env) { e.sim.InjectFault(testStore, merchantprosim.Fault{Kind: merchantprosim.FaultMalformed}) },
			platform.Update{Target: platform.Target{SKU: "S1", ProductID: "1"}, Stock: i64(1)}, platform.Transient, "not a JSON object"},
		{"truncated body", nil, func(e *env) { e.sim.InjectFault(testStore, merchantprosim.Fault{Kind: merchantprosim.FaultTruncated}) },
			platform.Update{Target: platform.Target{SKU: "S1", ProductID: "1"}, Stock: i64(1)}, platform.Transient, "truncated"},
		{"timeout", map[string]string{"timeout_ms": "100"},
			func(e *env) {
				e.sim.InjectFault(testStore, merchantprosim.Fault{Kind: merchantprosim.FaultHang, Delay: 5 * time.Second})
			},
			platform.Update{Target: platform.Target{SKU: "S1", ProductID: "1"}, Stock: i64(1)}, platform.Transient, "timeout"},
		{"bad credentials", nil, func(e *env) {
			e.secrets.set("mp/conn1", map[string]string{"api_key": testKey, "api_secret": "wrong-secret"})
		}, platform.Update{Target: platform.Target{SKU: "S1", ProductID: "1"}, Stock: i64(1)}, platform.Auth, "401"},
		{"revoked API user", nil, func(e *env) { e.sim.RevokeCredentials(testStore) },
			platform.Update{Target: platform.Target{SKU: "S1", ProductID: "1"}, Stock: i64(1)}, platform.Auth, "401"},
		{"secret without api_key", nil, func(e *env) { e.secrets.set("mp/conn1", map[string]string{"api_secret": "x"}) },
			platform.Update{Target: platform.Target{SKU: "S1", ProductID: "1"}, Stock: i64(1)}, platform.Auth, "api_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, merchantprosim.Options{}, tt.settings)
			e.addSimple(1)
			e.addMulti(9, 2)
			if tt.setup != nil {
				tt.setup(e)
			}
			err := e.c.Push(context.Background(), e.conn, []platform.Update{tt.update})[0]
			if err == nil || kindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.contains) {
				t.Fatalf("got %v, want %s containing %q", err, tt.kind, tt.contains)
			}
			if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), "wrong-secret") {
				t.Fatalf("secret leaked: %v", err)
			}
		})
	}
}

// TestRepeatedBadLoginsGive403 checks the 403 after repeated failures classifies as Auth.
func TestRepeatedBadLoginsGive403(t *testing.T) {
	e := newEnv(t, merchantprosim.Options{MaxFailedLogins: 2}, nil)
	e.addSimple(1)
	e.secrets.set("mp/conn1", map[string]string{"api_key": testKey, "api_secret": "nope"})
	var err error
	for range 4 {
		err = e.c.Push(context.Background(), e.conn, []platform.Update{{Target: platform.Target{SKU: "S1", ProductID: "1"}, Stock: i64(1)}})[0]
	}
	pe := platform.AsError(err)
	if pe.Kind != platform.Auth || pe.StatusCode != 403 {
		t.Fatalf("got %v, want auth 403", err)
	}
}

// TestRotatedCredentialsAreReloaded: the merchant replaced the API user; the cached
// secret gets 401, the connector reloads it once and the push succeeds.
func TestRotatedCredentialsAreReloaded(t *testing.T) {
	e := newEnv(t, merchantprosim.Options{}, nil)
	e.addSimple(1)
	up := []platform.Update{{Target: platform.Target{SKU: "S1", ProductID: "1"}, Stock: i64(1)}}
	if err := e.c.Push(context.Background(), e.conn, up)[0]; err != nil {
		t.Fatal(err)
	}
	e.sim.AddStore(testStore, merchantprosim.StoreConfig{APIKey: "new-key", APISecret: "new-secret"})
	e.addSimple(1)
	e.secrets.set("mp/conn1", map[string]string{"api_key": "new-key", "api_secret": "new-secret"})
	up[0].Stock = i64(2)
	if err := e.c.Push(context.Background(), e.conn, up)[0]; err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if n, _ := e.sim.Stock(testStore, 1, 0); n != 2 {
		t.Fatalf("stock %d", n)
	}
}

// TestRateLimitHintHonoured: an injected 429 with Retry-After 1 is classified with the
// hint, and the connection pauses: the next push does not reach the shop before it.
func TestRateLimitHintHonoured(t *testing.T) {
	e := newEnv(t, merchantprosim.Options{}, nil)
	e.addSimple(1)
	e.sim.InjectFault(testStore, merchantprosim.Fault{Kind: merchantprosim.FaultRateLimit, RetryAfter: time.Second})
	up := []platform.Update{{Target: platform.Target{SKU: "S1", ProductID: "1"}, Stock: i64(4)}}
	err := e.c.Push(context.Background(), e.conn, up)[0]
	pe := platform.AsError(err)
	if pe.Kind != platform.RateLimited || pe.RetryAfter != time.Second {
		t.Fatalf("got %v (retry after %v), want rate_limited with 1s", err, pe.RetryAfter)
	}
	start := time.Now()
	if err := e.c.Push(context.Background(), e.conn, up)[0]; err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Fatalf("next push went out after %v, before the 1s hint", waited)
	}
	if e.c.Stats().RateLimited != 1 {
		t.Fatalf("stats %+v", e.c.Stats())
	}
}

// TestLimiterKeepsBurstUnderSimLimit pushes 60 products through a store limited to 5
// requests per 200ms with the same setting: the simulator must never answer 429.
func TestLimiterKeepsBurstUnderSimLimit(t *testing.T) {
	e := newEnv(t, merchantprosim.Options{RateLimit: 5, RateWindow: 200 * time.Millisecond}, nil)
	e.addSimple(60)
	var ups []platform.Update
	for i := 1; i <= 60; i++ {
		ups = append(ups, platform.Update{Target: platform.Target{SKU: "s", ProductID: itoa(i)}, Stock: i64(int64(i))})
	}
	for i, err := range e.c.Push(context.Background(), e.conn, ups) {
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	c := e.sim.Calls(testStore)
	if c.RateLimited != 0 || c.Writes != 60 {
		t.Fatalf("sim counted %d 429s and %d writes; want 0 and 60", c.RateLimited, c.Writes)
	}
}

// TestRateLimitStormClassified: with the connector allowed twice the shop's limit, the
// shop answers 429s; each is RateLimited with a positive wait, never another kind. (The
// limiter paces starts and pauses on the first 429, so how many follow depends on timing.)
func TestRateLimitStormClassified(t *testing.T) {
	e := newEnv(t, merchantprosim.Options{RateLimit: 3, RateWindow: 2 * time.Second},
		map[string]string{"rate_limit": "6", "rate_window_ms": "2000"})
	e.addSimple(6)
	var ups []platform.Update
	for i := 1; i <= 6; i++ {
		ups = append(ups, platform.Update{Target: platform.Target{SKU: "s", ProductID: itoa(i)}, Stock: i64(1)})
	}
	limited := 0
	for _, err := range e.c.Push(context.Background(), e.conn, ups) {
		if err == nil {
			continue
		}
		pe := platform.AsError(err)
		if pe.Kind != platform.RateLimited || pe.RetryAfter <= 0 || pe.RetryAfter > 2*time.Second {
			t.Fatalf("got %v (retry after %v)", err, pe.RetryAfter)
		}
		limited++
	}
	if limited == 0 || int64(limited) != e.sim.Calls(testStore).RateLimited {
		t.Fatalf("%d rate limited, sim says %d", limited, e.sim.Calls(testStore).RateLimited)
	}
}

func TestPushNothingToSend(t *testing.T) {
	e := newEnv(t, merchantprosim.Options{}, nil)
	errs := e.c.Push(context.Background(), e.conn, []platform.Update{{Target: platform.Target{SKU: "S1", ProductID: "1"}}})
	if errs[0] != nil || e.sim.Calls(testStore).Total != 0 {
		t.Fatalf("err %v, calls %d", errs[0], e.sim.Calls(testStore).Total)
	}
}

func TestReadBack(t *testing.T) {
	e := newEnv(t, merchantprosim.Options{}, nil)
	e.addSimple(2)
	e.addMulti(9, 3)
	ups := []platform.Update{
		{Target: platform.Target{SKU: "S1", ProductID: "1"}, Stock: i64(5), Price: ron("12.34")},
		{Target: platform.Target{SKU: "M9-3", ProductID: "9", VariantID: vid(9, 3)}, Stock: i64(8), Price: ron("60")},
	}
	for _, err := range e.c.Push(context.Background(), e.conn, ups) {
		if err != nil {
			t.Fatal(err)
		}
	}
	targets := []platform.Target{
		{SKU: "S1", ProductID: "1"}, {SKU: "M9-3", ProductID: "9", VariantID: vid(9, 3)},
		{SKU: "M9-1", ProductID: "9", VariantID: vid(9, 1)}, {SKU: "gone", ProductID: "77"},
		{SKU: "M9-x", ProductID: "9", VariantID: "9999"},
	}
	before := e.endpoint(merchantprosim.EpProductGet)
	snaps, err := e.c.ReadBack(context.Background(), e.conn, targets)
	if err == nil || !strings.Contains(err.Error(), "77") || !strings.Contains(err.Error(), "M9-x") {
		t.Fatalf("want errors for product 77 and sku M9-x, got %v", err)
	}
	if got := e.endpoint(merchantprosim.EpProductGet) - before; got != 3 {
		t.Fatalf("%d GETs, want one per product (3)", got)
	}
	want := map[string]string{"S1": "5 12.34", "M9-3": "8 60.00", "M9-1": "0 50.00"}
	if len(snaps) != 3 {
		t.Fatalf("snapshots %+v", snaps)
	}
	for _, s := range snaps {
		got := itoa(int(*s.Stock)) + " " + s.Price.Amount.StringFixed(2)
		if want[s.SKU] != got || s.Price.Currency != "RON" {
			t.Fatalf("%s: %s %s, want %s", s.SKU, got, s.Price.Currency, want[s.SKU])
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
