package shopify

import (
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/platformtest"
	"github.com/ponte-hub/ponte/internal/platform/shopify/shopifysim"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func golden(t *testing.T, name string, v any) {
	t.Helper()
	platformtest.Golden(t, name, v, *update)
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkOrder asserts what does not depend on the golden file being right.
func checkOrder(t *testing.T, o domain.Order) {
	t.Helper()
	if o.PlatformID != "5813404221603" || o.Number != "#1047" || o.PlatformStatus != "paid" {
		t.Fatalf("identity %q %q %q", o.PlatformID, o.Number, o.PlatformStatus)
	}
	if !o.PlacedAt.Equal(time.Date(2026, 3, 15, 0, 37, 52, 0, time.UTC)) || o.PlacedAt.Location() != time.UTC {
		t.Fatalf("placed_at %v: 21:37 at -03:00 is 00:37 UTC next day", o.PlacedAt)
	}
	if o.Total.Amount.StringFixed(2) != "263.80" || o.ShippingCost.Amount.StringFixed(2) != "19.00" || o.Total.Currency != "BRL" {
		t.Fatalf("totals %v %v", o.Total, o.ShippingCost)
	}
	// 35.00 of discounts: 28.00 allocated to lines, 7.00 to shipping; the order's
	// discount holds them all, and the parts make the total.
	if o.Discount.Amount.StringFixed(2) != "35.00" || o.Lines[0].Discount.Amount.StringFixed(2) != "17.98" {
		t.Fatalf("discounts order %v line %v", o.Discount, o.Lines[0].Discount)
	}
	if msg := o.CheckTotal(); msg != "" {
		t.Fatal(msg)
	}
	if o.Customer.Document != "12345678909" || o.Customer.Email != "maria.souza@example.com.br" || o.Customer.CompanyName != "Souza Design Ltda" {
		t.Fatalf("customer %+v", o.Customer)
	}
	if o.Shipping == nil || o.Shipping.Street != "Avenida Paulista" || o.Shipping.Number != "1578" || o.Billing == nil || o.Billing.State != "SP" {
		t.Fatalf("addresses %+v %+v", o.Shipping, o.Billing)
	}
	if len(o.Lines) != 2 || o.Lines[0].VariantID != "gid://shopify/ProductVariant/44012345678901" || o.Lines[0].Quantity != 2 || o.Lines[0].SKU != "CAN-AZ-350" {
		t.Fatalf("lines %+v", o.Lines)
	}
}

func TestWebhookOrderGolden(t *testing.T) {
	body := readFile(t, "orders_create.json")
	c := New(&memSecrets{data: map[string]map[string]string{"s": {"webhook_secret": testSecret}}}, Options{})
	conn := domain.Connection{ID: "c1", Tenant: "t1", SecretRef: "s", Currency: "BRL", Settings: map[string]string{"shop_domain": "loja.myshopify.com"}}
	h := http.Header{}
	h.Set(HeaderHmac, Sign(testSecret, body))
	h.Set(HeaderTopic, "orders/create")
	h.Set(HeaderShopDomain, "loja.myshopify.com")
	h.Set(HeaderEventID, "98880550-7158-44d4-b7cd-2c97c8a091b5")
	h.Set(HeaderTriggeredAt, "2026-03-15T00:37:56.123456Z")
	ev, err := c.VerifyWebhook(context.Background(), conn, platform.WebhookRequest{Header: h, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Topic != "orders/create" || ev.Resource != "order" || ev.ResourceID != "5813404221603" ||
		ev.EventID != "98880550-7158-44d4-b7cd-2c97c8a091b5" || !ev.TriggeredAt.Equal(time.Date(2026, 3, 15, 0, 37, 56, 123456000, time.UTC)) || ev.Order == nil {
		t.Fatalf("event %+v", ev)
	}
	checkOrder(t, *ev.Order)
	golden(t, "orders_create.golden.json", ev.Order)
}

func TestFetchOrderGolden(t *testing.T) {
	e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, nil)
	if err := e.sim.AddOrder(testShop, readFile(t, "order_graphql.json")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"5813404221603", "gid://shopify/Order/5813404221603"} {
		o, err := e.c.FetchOrder(context.Background(), e.conn, id)
		if err != nil {
			t.Fatal(err)
		}
		checkOrder(t, o)
		if o.Lines[0].EAN != "7891234567895" {
			t.Fatalf("ean %q", o.Lines[0].EAN)
		}
		golden(t, "order_graphql.golden.json", o)
	}
}

func TestFetchOrderErrors(t *testing.T) {
	e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, nil)
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "1"); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "order 1 not found") {
		t.Fatalf("missing order: %v", err)
	}
	_ = e.sim.AddOrder(testShop, []byte(`{"id":"gid://shopify/Order/2","legacyResourceId":"2","createdAt":"2026-01-01T00:00:00Z","totalPriceSet":{"shopMoney":{"amount":"-5"}}}`))
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "2"); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "total_price") {
		t.Fatalf("bad total: %v", err)
	}
	e.sim.InjectFault(testShop, shopifysim.Fault{Kind: shopifysim.FaultMalformed})
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "2"); kindOf(err) != platform.Transient {
		t.Fatalf("garbage: %v", err)
	}
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "1/../2"); kindOf(err) != platform.Permanent {
		t.Fatalf("bad id: %v", err)
	}
}

func FuzzNormaliseRESTOrder(f *testing.F) {
	f.Add(readFile(f, "orders_create.json"))
	f.Add([]byte(`{"id":1,"created_at":"2026-01-01T00:00:00Z","line_items":[{"quantity":1e99,"price":"1"}]}`))
	f.Add([]byte(`{"id":"1","created_at":"2026-02-30T25:61:00Z","customer":[],"billing_address":"x"}`))
	f.Add([]byte(`{"id":18446744073709551617,"currency":"BRLX","total_price":"1e400"}`))
	f.Add([]byte(`null`))
	conn := domain.Connection{ID: "c1", Tenant: "t1"}
	f.Fuzz(func(t *testing.T, body []byte) {
		defer tooSlow(t, time.Now())
		raw, err := parseRESTOrder(body)
		if err != nil {
			return
		}
		checkNormalised(t, raw, conn)
	})
}

func FuzzNormaliseGraphQLOrder(f *testing.F) {
	f.Add([]byte(`{"order":` + string(readFile(f, "order_graphql.json")) + `}`))
	f.Add([]byte(`{"order":{"legacyResourceId":"1","createdAt":"2026-01-01T00:00:00Z","lineItems":{"nodes":[{"quantity":"x"}]}}}`))
	f.Add([]byte(`{"order":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		defer tooSlow(t, time.Now())
		raw, found, err := parseGQLOrder(body)
		if err != nil || !found {
			return
		}
		checkNormalised(t, raw, domain.Connection{ID: "c1"})
	})
}

func checkNormalised(t *testing.T, raw rawOrder, conn domain.Connection) {
	o, err := normalise(raw, conn, "BRL")
	if err != nil {
		if !strings.Contains(err.Error(), "field ") {
			t.Fatalf("error does not name a field: %v", err)
		}
		return
	}
	if o.PlatformID == "" || o.PlacedAt.IsZero() || o.PlacedAt.Location() != time.UTC || len(o.Total.Currency) != 3 {
		t.Fatalf("accepted an incomplete order %+v", o)
	}
	if o.Total.Amount.IsNegative() || o.Discount.Amount.IsNegative() {
		t.Fatalf("negative amount %+v", o)
	}
	for _, l := range o.Lines {
		if l.Quantity <= 0 || l.UnitPrice.Amount.IsNegative() {
			t.Fatalf("bad line %+v", l)
		}
	}
}

func TestHugeExponentsAreRejectedQuickly(t *testing.T) {
	body := []byte(`{"id":1,"created_at":"2026-01-01T00:00:00Z","total_price":"1e999999999",
		"line_items":[{"quantity":1,"price":"1","discount_allocations":[{"amount":"9e999999999"}]}],
		"shipping_lines":[{"price":"1E999999999"}]}`)
	done := make(chan error, 1)
	go func() {
		raw, err := parseRESTOrder(body)
		if err == nil {
			_, err = normalise(raw, domain.Connection{}, "BRL")
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "shipping_lines[0].price") {
			t.Fatalf("got %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a huge exponent made normalisation hang")
	}
}

// tooSlow fails a fuzz input that takes more than a second (a denial of service).
func tooSlow(t *testing.T, start time.Time) {
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestFetchOrderPagesLineItems(t *testing.T) {
	e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, nil)
	var lines []string
	for i := range 130 {
		lines = append(lines, `{"sku":"S`+strconv.Itoa(i)+`","quantity":1,"originalUnitPriceSet":{"shopMoney":{"amount":"1.00"}}}`)
	}
	order := `{"id":"gid://shopify/Order/9","legacyResourceId":"9","createdAt":"2026-01-01T00:00:00Z",
		"totalPriceSet":{"shopMoney":{"amount":"130.00"}},"lineItems":{"nodes":[` + strings.Join(lines, ",") + `]}}`
	if err := e.sim.AddOrder(testShop, []byte(order)); err != nil {
		t.Fatal(err)
	}
	o, err := e.c.FetchOrder(context.Background(), e.conn, "9")
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Lines) != 130 || o.Lines[129].SKU != "S129" || e.ops("GetOrder") != 2 {
		t.Fatalf("%d lines, last %q, %d calls", len(o.Lines), o.Lines[len(o.Lines)-1].SKU, e.ops("GetOrder"))
	}
}
