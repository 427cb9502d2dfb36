package nuvemshop

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/nuvemshop/nuvemshopsim"
	"github.com/ponte-hub/ponte/internal/platform/platformtest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestFetchOrderGolden fetches each fixture through the simulator (served verbatim)
// and compares the canonical order with its golden file; each total must agree with
// its parts. The fixtures are invented, in the shapes Nuvemshop documents: the modern
// order (total, payment_details, customer.identification), the older single-order
// shape (the total in "price", "number" twice, lines without name or sku) and a store
// pickup with a gateway discount and a promotion outside "discount".
func TestFetchOrderGolden(t *testing.T) {
	tests := []struct {
		fixture, id string
		check       func(t *testing.T, o domain.Order)
	}{
		{"order", "1467083201", func(t *testing.T, o domain.Order) {
			if !o.PlacedAt.Equal(time.Date(2025, 11, 29, 1, 41, 7, 0, time.UTC)) || o.PlacedAt.Location() != time.UTC {
				t.Fatalf("placed_at %v: 22:41 at -03:00 is 01:41 UTC next day", o.PlacedAt)
			}
			if !o.UpdatedAt.Equal(time.Date(2025, 11, 29, 1, 52, 13, 0, time.UTC)) {
				t.Fatalf("updated_at %v, want the order's updated_at", o.UpdatedAt)
			}
			if o.PlatformStatus != "paid" || o.Number != "3187" || o.PaymentMethod != "Mercado Pago (pix)" || o.ShippingMethod != "Correios - SEDEX" {
				t.Fatalf("status %q number %q payment %q shipping %q", o.PlatformStatus, o.Number, o.PaymentMethod, o.ShippingMethod)
			}
			c := o.Customer
			if c.Document != "12345678000195" || c.CompanyName != "Padaria Aurora Ltda" || c.TradeName != "Padaria Aurora" ||
				c.Email != "compras@padariaaurora.com.br" || len(c.Phones) != 2 {
				t.Fatalf("customer %+v", c)
			}
			if o.Shipping == nil || o.Shipping.Phone != "+5511987654321" || o.Shipping.PostalCode != "01310200" ||
				o.Billing == nil || o.Billing.Street != "Rua Harmonia" || o.Billing.Complement != "Sala 3" {
				t.Fatalf("addresses: shipping %+v billing %+v", o.Shipping, o.Billing)
			}
			if len(o.Lines) != 2 || o.Lines[0].Quantity != 2 || o.Lines[0].VariantID != "426215948" || o.Lines[1].VariantID != "426215999" ||
				o.Lines[0].EAN != "7891234567895" || !o.Lines[1].UnitPrice.Equal(domain.MustMoney("129.90", "BRL")) {
				t.Fatalf("lines %+v", o.Lines)
			}
			if !o.Total.Equal(domain.MustMoney("229.63", "BRL")) || !o.Discount.Equal(domain.MustMoney("22.97", "BRL")) ||
				!o.ShippingCost.Equal(domain.MustMoney("22.90", "BRL")) {
				t.Fatalf("totals %v %v %v", o.Total, o.Discount, o.ShippingCost)
			}
			if !slices.Equal(o.CouponCodes, []string{"PAO10"}) || o.Note != "Entregar pela manhã" || o.Pickup != nil {
				t.Fatalf("coupons %v note %q pickup %+v", o.CouponCodes, o.Note, o.Pickup)
			}
		}},
		{"order_legacy", "880112233", func(t *testing.T, o domain.Order) {
			if !o.Total.Equal(domain.MustMoney("67.80", "BRL")) {
				t.Fatalf("total %v: the older shape states it in price", o.Total)
			}
			if o.Number != "2044" || o.PaymentMethod != "PagSeguro" || o.ShippingMethod != "Correios - PAC" || o.PlatformStatus != "pending" {
				t.Fatalf("number %q (the last of the two) payment %q shipping %q status %q", o.Number, o.PaymentMethod, o.ShippingMethod, o.PlatformStatus)
			}
			if len(o.Lines) != 1 || o.Lines[0].Quantity != 2 || !o.Lines[0].UnitPrice.Equal(domain.MustMoney("25.90", "BRL")) || o.Lines[0].VariantID != "90021" {
				t.Fatalf("lines %+v", o.Lines)
			}
			if o.Customer.Email != "marcos.tavares@example.invalid" || o.Customer.ExternalID != "3301" || o.Billing == nil || o.Billing.Neighborhood != "Batel" ||
				o.Shipping == nil || o.Shipping.Complement != "Casa 2" || !slices.Equal(o.CouponCodes, []string{"FRETEAMIGO"}) || o.Note != "Sem cebola, por favor" {
				t.Fatalf("details: %+v", o)
			}
			if !o.UpdatedAt.Equal(time.Date(2024, 6, 3, 12, 20, 30, 0, time.UTC)) {
				t.Fatalf("updated_at %v", o.UpdatedAt)
			}
		}},
		{"order_pickup", "1500200300", func(t *testing.T, o domain.Order) {
			if o.Pickup == nil || o.Pickup.ID != "pk-77" || o.Pickup.Name != "Loja Botafogo" || o.Pickup.Address == nil ||
				o.Pickup.Address.Street != "Rua São Clemente" || o.Pickup.Address.State != "Rio de Janeiro" || o.Pickup.Address.Country != "BR" ||
				o.Pickup.Address.PostalCode != "22250040" {
				t.Fatalf("pickup %+v address %+v", o.Pickup, o.Pickup.Address)
			}
			// discount states the gateway's 5.00; the 10.00 promotion is outside it and
			// only the stated total (85.00) agrees with both.
			if !o.Discount.Equal(domain.MustMoney("15.00", "BRL")) || !o.Total.Equal(domain.MustMoney("85.00", "BRL")) || !o.ShippingCost.Amount.IsZero() {
				t.Fatalf("discount %v total %v shipping %v", o.Discount, o.Total, o.ShippingCost)
			}
			if o.Customer.Document != "12345678909" || o.Customer.CompanyName != "" || o.PaymentMethod != "Pagar.me (pix)" || o.CouponCodes != nil || o.Note != "" {
				t.Fatalf("customer %+v payment %q coupons %v note %q", o.Customer, o.PaymentMethod, o.CouponCodes, o.Note)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			e := newEnv(t, nuvemshopsim.Options{}, nil)
			payload, err := os.ReadFile(filepath.Join("testdata", tt.fixture+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.sim.AddOrder(testStore, payload); err != nil {
				t.Fatal(err)
			}
			o, err := e.c.FetchOrder(context.Background(), e.conn, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if msg := o.CheckTotal(); msg != "" {
				t.Fatalf("total does not agree with its parts: %s", msg)
			}
			platformtest.Golden(t, tt.fixture+".golden.json", o, *update)
			// Spot checks that do not depend on the golden file being right.
			tt.check(t, o)
		})
	}
}

// TestOrderMoneyFallbacks: a total is read from "total", else "price", and never
// becomes a silent 0; a missing discount is the sum of its stated parts.
func TestOrderMoneyFallbacks(t *testing.T) {
	const head = `{"id":9,"created_at":"2025-01-02T10:00:00+0000","currency":"BRL","products":[{"price":"10.00","quantity":2}],`
	tests := []struct {
		name, body, total, discount, wantErr string
	}{
		{name: "total", body: head + `"total":"18.00","price":"99.00","discount":"2.00"}`, total: "18", discount: "2"},
		{name: "price when no total", body: head + `"price":"20.00"}`, total: "20", discount: "0"},
		{name: "null total falls back", body: head + `"total":null,"price":"20.00"}`, total: "20", discount: "0"},
		{name: "no total at all", body: head + `"subtotal":"20.00"}`, wantErr: "field total is missing"},
		{name: "discount from its parts", body: head + `"total":"15.00","discount_coupon":"3.00","discount_gateway":"1.50","promotional_discount":{"total_discount_amount":"0.50"}}`, total: "15", discount: "5"},
		{name: "bad discount_gateway", body: head + `"total":"15.00","discount_gateway":"abc"}`, wantErr: "field discount_gateway"},
		{name: "bad price fallback", body: head + `"price":"1e3"}`, wantErr: "field price"},
		{name: "line without price", body: `{"id":9,"created_at":"2025-01-02T10:00:00+0000","total":"1","products":[{"quantity":1}]}`, wantErr: "products[0].price: missing"},
		{name: "promotion already inside discount", body: head + `"total":"15.00","discount":"5.00","promotional_discount":{"total_discount_amount":"5.00"}}`, total: "15", discount: "5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := normaliseOrder([]byte(tt.body), domain.Connection{ID: "c"}, "BRL")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want error %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Total.Amount.String() != tt.total || o.Discount.Amount.String() != tt.discount {
				t.Fatalf("total %s discount %s, want %s and %s", o.Total.Amount, o.Discount.Amount, tt.total, tt.discount)
			}
		})
	}
}

func TestOrderStatusFolding(t *testing.T) {
	tests := []struct{ status, payment, shipping, want string }{
		{"open", "pending", "unpacked", "pending"},
		{"open", "paid", "unpacked", "paid"},
		{"open", "paid", "packed", "packed"},
		{"open", "paid", "shipped", "fulfilled"},
		{"closed", "paid", "shipped", "closed"},
		{"cancelled", "voided", "unpacked", "cancelled"},
		{"open", "", "", "open"},
	}
	for _, tt := range tests {
		o := orderJSON{Status: flex(tt.status), PaymentStatus: flex(tt.payment), ShippingStatus: flex(tt.shipping)}
		if got := orderStatus(o); got != tt.want {
			t.Errorf("%s/%s/%s: %q, want %q", tt.status, tt.payment, tt.shipping, got, tt.want)
		}
	}
}

func TestFetchOrderErrors(t *testing.T) {
	e := newEnv(t, nuvemshopsim.Options{}, nil)
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "1"); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "order 1 not found") {
		t.Fatalf("missing order: %v", err)
	}
	_ = e.sim.AddOrder(testStore, []byte(`{"id":2,"created_at":"2025-01-02T10:00:00+0000","total":"-5"}`))
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "2"); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "field total") {
		t.Fatalf("bad total: %v", err)
	}
	_ = e.sim.AddOrder(testStore, []byte(`{"id":3,"created_at":"2025-01-02T10:00:00+0000","total":"1","products":[{"quantity":"0","price":"1"}]}`))
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "3"); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "products[0].quantity") {
		t.Fatalf("bad quantity: %v", err)
	}
	for _, f := range []nuvemshopsim.FaultKind{nuvemshopsim.FaultMalformed, nuvemshopsim.FaultTruncated, nuvemshopsim.FaultServerError} {
		e.sim.InjectFault(testStore, nuvemshopsim.Fault{Kind: f})
		if _, err := e.c.FetchOrder(context.Background(), e.conn, "2"); kindOf(err) != platform.Transient {
			t.Fatalf("fault %d: %v", f, err)
		}
	}
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "1/../2"); kindOf(err) != platform.Permanent {
		t.Fatalf("bad id: %v", err)
	}
}

func FuzzNormaliseOrder(f *testing.F) {
	payload, err := os.ReadFile(filepath.Join("testdata", "order.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(payload)
	f.Add([]byte(`{"id":1,"created_at":"2025-01-01T00:00:00+0000","products":[{"quantity":"1e9999","price":"1"}]}`))
	f.Add([]byte(`{"id":1,"created_at":"2025-02-30T25:61:00+0000","customer":[],"shipping_address":"x"}`))
	f.Add([]byte(`{"id":"1","created_at":"2025-01-01T00:00:00Z","products":{"a":1},"currency":"€€€"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	conn := domain.Connection{ID: "c1", Tenant: "t1"}
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := normaliseOrder(body, conn, "BRL")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if o.PlatformID == "" || o.PlacedAt.IsZero() || o.PlacedAt.Location() != time.UTC || len(o.Total.Currency) != 3 {
			t.Fatalf("accepted an incomplete order %+v", o)
		}
		for _, l := range o.Lines {
			if l.Quantity <= 0 || l.UnitPrice.Amount.IsNegative() {
				t.Fatalf("bad line %+v", l)
			}
		}
	})
}
