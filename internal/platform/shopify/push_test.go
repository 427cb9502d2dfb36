package shopify

import (
	"context"
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/shopify/shopifysim"
)

func stockUpdates(ts []platform.Target, qty func(i int) int64) []platform.Update {
	ups := make([]platform.Update, len(ts))
	for i, t := range ts {
		ups[i] = platform.Update{Target: t, Stock: i64(qty(i))}
	}
	return ups
}

func TestPushStockSplitsBatches(t *testing.T) {
	e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, nil)
	ts := e.seed(600)
	noErrors(t, e.c.Push(context.Background(), e.conn, stockUpdates(ts, func(i int) int64 { return int64(i % 17) })))
	if got := e.ops("SetStock"); got != 3 {
		t.Fatalf("SetStock calls = %d, want 3 (600 quantities, 250 a call)", got)
	}
	if got := e.ops("Variants"); got != 6 {
		t.Fatalf("Variants reads = %d, want 6 (600 unknown items, 100 a read)", got)
	}
	for i, tg := range ts {
		if got := e.stock(tg.VariantID); got != int64(i%17) {
			t.Fatalf("variant %d stock = %d, want %d", i, got, i%17)
		}
	}
	// Second push: inventory items and quantities are known, no reads.
	noErrors(t, e.c.Push(context.Background(), e.conn, stockUpdates(ts, func(i int) int64 { return int64(i % 5) })))
	if got, reads := e.ops("SetStock"), e.ops("Variants"); got != 6 || reads != 6 {
		t.Fatalf("after second push: SetStock %d (want 6), Variants %d (want 6)", got, reads)
	}
	if w := e.sim.Calls(testShop).Writes; w != 6 {
		t.Fatalf("writes = %d, want 6", w)
	}
}

func TestPushStockStaleIsReReadAndRetried(t *testing.T) {
	e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, nil)
	ts := e.seed(3)
	noErrors(t, e.c.Push(context.Background(), e.conn, stockUpdates(ts, func(int) int64 { return 8 })))
	e.sim.SetAvailable(testShop, ts[1].VariantID, 7) // a sale on Shopify
	noErrors(t, e.c.Push(context.Background(), e.conn, stockUpdates(ts, func(int) int64 { return 20 })))
	for _, tg := range ts {
		if got := e.stock(tg.VariantID); got != 20 {
			t.Fatalf("stock %d, want 20", got)
		}
	}
	// 1st push: read + set; 2nd push: set (stale) + re-read of one + set.
	if got, reads := e.ops("SetStock"), e.ops("Variants"); got != 3 || reads != 2 {
		t.Fatalf("SetStock %d (want 3), Variants %d (want 2)", got, reads)
	}
}

func TestPushStockChangeFromNone(t *testing.T) {
	e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, map[string]string{"change_from": "none"})
	ts := e.seed(2)
	noErrors(t, e.c.Push(context.Background(), e.conn, stockUpdates(ts, func(int) int64 { return 1 })))
	e.sim.SetAvailable(testShop, ts[0].VariantID, 99)
	noErrors(t, e.c.Push(context.Background(), e.conn, stockUpdates(ts, func(int) int64 { return 4 })))
	if got := e.stock(ts[0].VariantID); got != 4 {
		t.Fatalf("stock %d, want 4 (explicit null skips the check)", got)
	}
	if reads := e.ops("Variants"); reads != 1 {
		t.Fatalf("Variants reads %d, want 1 (inventory item resolution only)", reads)
	}
}

func TestPushPricesAndProducts(t *testing.T) {
	e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, map[string]string{"price_products_per_call": "25"})
	ts := e.seed(60)
	ups := make([]platform.Update, len(ts))
	for i, tg := range ts {
		ups[i] = platform.Update{Target: tg, Price: brl("19.9"), Cost: brl("7.25"), ListPrice: brl("29.90")}
	}
	noErrors(t, e.c.Push(context.Background(), e.conn, ups))
	if got := e.ops("UpdateCatalog"); got != 3 {
		t.Fatalf("UpdateCatalog calls = %d, want 3 (60 products, 25 a call)", got)
	}
	v, _ := e.sim.Variant(testShop, ts[59].VariantID)
	if v.Price.StringFixed(2) != "19.90" || v.Cost.StringFixed(2) != "7.25" || v.CompareAtPrice == nil || v.CompareAtPrice.StringFixed(2) != "29.90" {
		t.Fatalf("variant holds %+v", v)
	}
	// A list price not above the price clears compareAtPrice.
	noErrors(t, e.c.Push(context.Background(), e.conn, []platform.Update{{Target: ts[0], Price: brl("30"), ListPrice: brl("30")}}))
	if v, _ := e.sim.Variant(testShop, ts[0].VariantID); v.CompareAtPrice != nil || v.Price.StringFixed(2) != "30.00" {
		t.Fatalf("variant holds %+v", v)
	}
}

func TestPushMixedAndProductData(t *testing.T) {
	e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, nil)
	ts := e.seed(2)
	// A second variant on the first product: both price writes go in one bulk update.
	v2, err := e.sim.AddVariant(testShop, ts[0].ProductID, "SKU-0-M", 1, dec("10"))
	if err != nil {
		t.Fatal(err)
	}
	ups := []platform.Update{
		{Target: ts[0], Stock: i64(3), Price: brl("11.00"),
			Product: &domain.ProductData{Name: "Mug", Description: "<p>Blue</p>", Brand: "Acme", Category: "Kitchen", EAN: "7891234567895", WeightGrams: 350, Published: true}},
		{Target: platform.Target{SKU: "SKU-0-M", ProductID: ts[0].ProductID, VariantID: v2}, Stock: i64(4), Price: brl("12.00")},
		{Target: ts[1], Stock: i64(0)},
		{Target: ts[1]}, // nothing to send
	}
	noErrors(t, e.c.Push(context.Background(), e.conn, ups))
	if s, c := e.ops("SetStock"), e.ops("UpdateCatalog"); s != 1 || c != 1 {
		t.Fatalf("SetStock %d, UpdateCatalog %d; want 1 and 1", s, c)
	}
	p, _ := e.sim.Product(testShop, ts[0].ProductID)
	if p.Title != "Mug" || p.Vendor != "Acme" || p.ProductType != "Kitchen" || p.Status != "ACTIVE" || p.DescriptionHTML != "<p>Blue</p>" {
		t.Fatalf("product %+v", p)
	}
	v, _ := e.sim.Variant(testShop, ts[0].VariantID)
	if v.Barcode != "7891234567895" || v.WeightGrams != 350 || v.Price.StringFixed(2) != "11.00" {
		t.Fatalf("variant %+v", v)
	}
	if e.stock(ts[0].VariantID) != 3 || e.stock(v2) != 4 || e.stock(ts[1].VariantID) != 0 {
		t.Fatal("stock not applied")
	}
}

func TestPushIsolatesBadItems(t *testing.T) {
	e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, nil)
	ts := e.seed(5)
	noErrors(t, e.c.Push(context.Background(), e.conn, stockUpdates(ts, func(int) int64 { return 1 })))
	// Known to the connector, then no longer stocked at the location: the call fails
	// for that item only and the rest is re-sent.
	e.sim.Unstock(testShop, ts[2].VariantID)
	other := ts[3]
	other.ProductID = ts[4].ProductID // variant of another product: bulk update names it
	ups := stockUpdates(ts, func(int) int64 { return 9 })
	ups = append(ups,
		platform.Update{Target: platform.Target{SKU: "ghost", ProductID: "1", VariantID: "gid://shopify/ProductVariant/999999"}, Stock: i64(1)},
		platform.Update{Target: other, Price: brl("5.00")},
		platform.Update{Target: ts[0], Price: brl("6.00")},
		platform.Update{Target: platform.Target{SKU: "noprod", ProductID: "gid://shopify/Product/424242", VariantID: ts[1].VariantID}, Price: brl("6.00")},
		platform.Update{Target: platform.Target{SKU: "badid", VariantID: "../1"}, Stock: i64(1)},
		platform.Update{Target: ts[1], Price: &domain.Money{Amount: dec("6"), Currency: "USD"}},
		platform.Update{Target: ts[1], Stock: i64(-1)},
	)
	errs := e.c.Push(context.Background(), e.conn, ups)
	want := []string{"", "", "ITEM_NOT_STOCKED_AT_LOCATION", "", "", "not found", "PRODUCT_VARIANT_DOES_NOT_EXIST", "",
		"PRODUCT_DOES_NOT_EXIST", "variant id", "store sells in BRL", "negative stock"}
	for i, w := range want {
		if w == "" {
			if errs[i] != nil {
				t.Fatalf("update %d: %v", i, errs[i])
			}
			continue
		}
		if errs[i] == nil || kindOf(errs[i]) != platform.Permanent || !strings.Contains(errs[i].Error(), w) {
			t.Fatalf("update %d: got %v, want permanent %q", i, errs[i], w)
		}
	}
	for _, i := range []int{0, 1, 3, 4} {
		if got := e.stock(ts[i].VariantID); got != 9 {
			t.Fatalf("good item %d stock %d, want 9", i, got)
		}
	}
	if v, _ := e.sim.Variant(testShop, ts[0].VariantID); v.Price.StringFixed(2) != "6.00" {
		t.Fatalf("good price not applied: %s", v.Price)
	}
}

func TestPushFailuresAreClassified(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]string
		fault    *shopifysim.Fault
		revoke   bool
		secret   map[string]string
		kind     platform.Kind
		want     string
	}{
		{name: "429 with Retry-After", fault: &shopifysim.Fault{Kind: shopifysim.FaultRateLimit, RetryAfter: 2e9}, kind: platform.RateLimited, want: "too many"},
		{name: "THROTTLED", fault: &shopifysim.Fault{Kind: shopifysim.FaultThrottled}, kind: platform.RateLimited, want: "throttled"},
		{name: "500", fault: &shopifysim.Fault{Kind: shopifysim.FaultServerError}, kind: platform.Transient, want: "HTTP 500"},
		{name: "timeout", settings: map[string]string{"timeout_ms": "150"}, fault: &shopifysim.Fault{Kind: shopifysim.FaultHang, Delay: 3e9}, kind: platform.Transient, want: "timeout"},
		{name: "malformed body", fault: &shopifysim.Fault{Kind: shopifysim.FaultMalformed}, kind: platform.Transient, want: "unexpected body"},
		{name: "truncated body", fault: &shopifysim.Fault{Kind: shopifysim.FaultTruncated}, kind: platform.Transient, want: "truncated"},
		{name: "revoked token", revoke: true, kind: platform.Auth, want: "access token"},
		{name: "no token in secret", secret: map[string]string{"webhook_secret": "x"}, kind: platform.Auth, want: "no access_token"},
		{name: "bad setting", settings: map[string]string{"stock_batch": "900"}, kind: platform.Permanent, want: "stock_batch"},
		{name: "no location", settings: map[string]string{"location_id": ""}, kind: platform.Permanent, want: "location_id"},
		{name: "bad change_from", settings: map[string]string{"change_from": "maybe"}, kind: platform.Permanent, want: "change_from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, tt.settings)
			ts := e.seed(1)
			if tt.fault != nil {
				e.sim.InjectFault(testShop, *tt.fault)
			}
			if tt.revoke {
				e.sim.RevokeToken(testShop)
			}
			if tt.secret != nil {
				e.secrets.data["shopify/conn1"] = tt.secret
			}
			errs := e.c.Push(context.Background(), e.conn, []platform.Update{{Target: ts[0], Stock: i64(2), Price: brl("3")}})
			err := errs[0]
			if err == nil || kindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %v containing %q", err, tt.kind, tt.want)
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "0123456789abcdef") {
				t.Fatalf("token leaked: %v", err)
			}
			if tt.kind == platform.RateLimited && platform.AsError(err).RetryAfter <= 0 {
				t.Fatalf("no wait hint: %+v", platform.AsError(err))
			}
			if tt.name == "429 with Retry-After" && platform.AsError(err).RetryAfter != 2e9 {
				t.Fatalf("RetryAfter %v, want 2s", platform.AsError(err).RetryAfter)
			}
		})
	}
}

func TestPushTransientFailureForgetsKnownQuantity(t *testing.T) {
	e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, nil)
	ts := e.seed(1)
	noErrors(t, e.c.Push(context.Background(), e.conn, stockUpdates(ts, func(int) int64 { return 2 })))
	e.sim.InjectFault(testShop, shopifysim.Fault{Kind: shopifysim.FaultTruncated})
	if err := e.c.Push(context.Background(), e.conn, stockUpdates(ts, func(int) int64 { return 3 }))[0]; kindOf(err) != platform.Transient {
		t.Fatalf("got %v", err)
	}
	noErrors(t, e.c.Push(context.Background(), e.conn, stockUpdates(ts, func(int) int64 { return 4 })))
	if got := e.stock(ts[0].VariantID); got != 4 {
		t.Fatalf("stock %d", got)
	}
}

func TestPushSameVariantTwice(t *testing.T) {
	e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, nil)
	ts := e.seed(1)
	alias := ts[0]
	alias.SKU = "ALIAS"
	errs := e.c.Push(context.Background(), e.conn, []platform.Update{
		{Target: ts[0], Stock: i64(3), Price: brl("10")},
		{Target: alias, Stock: i64(4), Price: brl("11")},
	})
	noErrors(t, errs)
	if v, _ := e.sim.Variant(testShop, ts[0].VariantID); e.stock(ts[0].VariantID) != 4 || v.Price.StringFixed(2) != "11.00" {
		t.Fatalf("stock %d price %s; the later update should win", e.stock(ts[0].VariantID), v.Price)
	}
}

func TestPushManyVariantsOfOneProduct(t *testing.T) {
	e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, nil)
	ts := e.seed(1)
	ups := []platform.Update{{Target: ts[0], Price: brl("1")}}
	for i := range 300 {
		v, err := e.sim.AddVariant(testShop, ts[0].ProductID, "V"+strings.Repeat("x", i%3)+string(rune('a'+i%26)), 0, dec("1"))
		if err != nil {
			t.Fatal(err)
		}
		ups = append(ups, platform.Update{Target: platform.Target{SKU: "v", ProductID: ts[0].ProductID, VariantID: v}, Price: brl("2.5")})
	}
	noErrors(t, e.c.Push(context.Background(), e.conn, ups))
	if got := e.ops("UpdateCatalog"); got != 1 {
		t.Fatalf("UpdateCatalog calls %d, want 1 (two aliases of 250 and 51 variants)", got)
	}
	if v, _ := e.sim.Variant(testShop, ups[300].VariantID); v.Price.StringFixed(2) != "2.50" {
		t.Fatalf("last variant price %s", v.Price)
	}
}
