package shopify

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// verifyFixture delivers a testdata body as a signed webhook and returns its order.
func verifyFixture(t *testing.T, name, topic string) domain.Order {
	t.Helper()
	body := readFile(t, name)
	c, conn := webhookConnector(map[string]string{"webhook_secret": testSecret})
	conn.Currency = "" // the order's own currency field decides
	h := http.Header{}
	h.Set(HeaderHmac, Sign(testSecret, body))
	h.Set(HeaderTopic, topic)
	ev, err := c.VerifyWebhook(context.Background(), conn, platform.WebhookRequest{Header: h, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Order == nil {
		t.Fatal("no order in the event")
	}
	return *ev.Order
}

// TestWebhookOrderShapes covers the two shapes Shopify publishes: the 2025-01 webhook
// reference (sorted keys, *_set money, discounted_price on shipping, tax_lines on
// lines, payment_gateway_names) and the old REST order (gateway, discount_codes, tax
// only on the order, no allocations). Both fixtures are invented, of the same shape.
func TestWebhookOrderShapes(t *testing.T) {
	tests := []struct {
		file, golden, topic              string
		id, status, payment, currency    string
		coupons                          []string
		note                             string
		tax, discount, shipping, total   string
		lineTax                          []string // "" for a line without tax lines
		company, shipPhone, billingPhone string
		phones                           []string
	}{
		{file: "orders_cancelled_2025.json", golden: "orders_cancelled_2025.golden.json", topic: "orders/cancelled",
			id: "6120334455667", status: "cancelled", payment: "pix, manual", currency: "EUR",
			coupons: []string{"BEMVINDO"}, note: "Deixar na portaria, por favor",
			tax: "6.05", discount: "9.10", shipping: "6.90", total: "106.85", lineTax: []string{"5.33", "0.72"},
			company: "Atelier Lume Ltda", shipPhone: "+55 41 99876-1234", billingPhone: "+55 41 3322-9900",
			phones: []string{"+55 41 99876-1234", "+55 41 3322-9900"}},
		{file: "order_legacy.json", golden: "order_legacy.golden.json", topic: "orders/updated",
			id: "770123001", status: "authorized", payment: "bogus_gateway", currency: "USD",
			coupons: []string{"SAVE5"}, note: "Gift wrap, no invoice in the box",
			tax: "10.62", discount: "5.00", shipping: "8.00", total: "190.62", lineTax: []string{"", ""},
			company: "Menon Imports", shipPhone: "503-555-0199", billingPhone: "503-555-0144",
			phones: []string{"503-555-0144", "503-555-0199"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			o := verifyFixture(t, tt.file, tt.topic)
			if msg := o.CheckTotal(); msg != "" {
				t.Fatal(msg)
			}
			if o.PlatformID != tt.id || o.PlatformStatus != tt.status || o.PaymentMethod != tt.payment || o.Total.Currency != tt.currency {
				t.Fatalf("identity %q %q %q %q", o.PlatformID, o.PlatformStatus, o.PaymentMethod, o.Total.Currency)
			}
			if !slices.Equal(o.CouponCodes, tt.coupons) || o.Note != tt.note {
				t.Fatalf("coupons %v note %q", o.CouponCodes, o.Note)
			}
			if o.Tax == nil || o.Tax.Amount.StringFixed(2) != tt.tax || o.TaxesIncluded {
				t.Fatalf("tax %v included %v", o.Tax, o.TaxesIncluded)
			}
			if o.Discount.Amount.StringFixed(2) != tt.discount || o.ShippingCost.Amount.StringFixed(2) != tt.shipping || o.Total.Amount.StringFixed(2) != tt.total {
				t.Fatalf("discount %v shipping %v total %v", o.Discount, o.ShippingCost, o.Total)
			}
			for i, want := range tt.lineTax {
				l := o.Lines[i]
				if got := l.Tax; (want == "") != (got == nil) || (got != nil && got.Amount.StringFixed(2) != want) {
					t.Fatalf("line %d tax %v, want %q", i, got, want)
				}
				if l.UnitPrice.Amount.StringFixed(2) == "" || !strings.HasPrefix(l.ProductID, "gid://shopify/Product/") || !strings.HasPrefix(l.VariantID, "gid://shopify/ProductVariant/") {
					t.Fatalf("line %d %+v", i, l)
				}
			}
			if o.Customer.CompanyName != tt.company || o.Shipping == nil || o.Shipping.Phone != tt.shipPhone || o.Billing == nil || o.Billing.Phone != tt.billingPhone {
				t.Fatalf("customer %+v shipping %+v billing %+v", o.Customer, o.Shipping, o.Billing)
			}
			if !slices.Equal(o.Customer.Phones, tt.phones) {
				t.Fatalf("phones %v", o.Customer.Phones)
			}
			if *o.Shipping == *o.Billing {
				t.Fatal("the two addresses came out the same")
			}
			golden(t, tt.golden, o)
		})
	}
}

// TestUnitPriceIsAsStated: with taxes_included the unit price keeps the tax Shopify put
// in it, the order says so, and the tax is not added again to the total.
func TestUnitPriceIsAsStated(t *testing.T) {
	body := []byte(`{"id":1,"created_at":"2026-01-01T00:00:00Z","currency":"EUR","taxes_included":true,
		"total_price":"24.20","total_tax":"4.20","total_discounts":"0.00",
		"line_items":[{"quantity":2,"price":"12.10","tax_lines":[{"price":"4.20","rate":0.21}]}]}`)
	raw, err := parseRESTOrder(body)
	if err != nil {
		t.Fatal(err)
	}
	o, err := normalise(raw, domain.Connection{}, "EUR")
	if err != nil {
		t.Fatal(err)
	}
	if o.Lines[0].UnitPrice.Amount.StringFixed(2) != "12.10" || !o.TaxesIncluded || o.Tax.Amount.StringFixed(2) != "4.20" ||
		o.Lines[0].Tax.Amount.StringFixed(2) != "4.20" || o.CheckTotal() != "" {
		t.Fatalf("%+v: %s", o, o.CheckTotal())
	}
}

// TestShippingDiscountCountsOnce: shipping is its price before discounts, and the
// order's discount holds what discounts took off it, whether total_discounts includes
// it or (a payload that leaves it out) not.
func TestShippingDiscountCountsOnce(t *testing.T) {
	for _, td := range []string{"7.00", "2.00"} {
		body := []byte(`{"id":1,"created_at":"2026-01-01T00:00:00Z","total_price":"20.00","total_discounts":"` + td + `",
			"line_items":[{"quantity":1,"price":"15.00","discount_allocations":[{"amount":"2.00"}]}],
			"shipping_lines":[{"title":"Express","price":"12.00","discounted_price":"7.00"}]}`)
		raw, err := parseRESTOrder(body)
		if err != nil {
			t.Fatal(err)
		}
		o, err := normalise(raw, domain.Connection{}, "USD")
		if err != nil {
			t.Fatal(err)
		}
		if o.ShippingCost.Amount.StringFixed(2) != "12.00" || o.Discount.Amount.StringFixed(2) != "7.00" || o.CheckTotal() != "" {
			t.Fatalf("total_discounts %s: shipping %v discount %v: %s", td, o.ShippingCost, o.Discount, o.CheckTotal())
		}
	}
}

// TestGatewayFallback: payment_gateway_names wins; the older gateway field is used only
// without it.
func TestGatewayFallback(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"payment_gateway_names":["shopify_payments","gift_card"],"gateway":"old"}`, "shopify_payments, gift_card"},
		{`{"payment_gateway_names":[],"gateway":"authorize_net"}`, "authorize_net"},
		{`{"gateway":"manual"}`, "manual"},
		{`{"note":null}`, ""},
	}
	for _, tt := range tests {
		body := strings.Replace(tt.body, "{", `{"id":1,"created_at":"2026-01-01T00:00:00Z",`, 1)
		raw, err := parseRESTOrder([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		o, err := normalise(raw, domain.Connection{}, "USD")
		if err != nil || o.PaymentMethod != tt.want {
			t.Fatalf("%s: %q %v", tt.body, o.PaymentMethod, err)
		}
	}
}
