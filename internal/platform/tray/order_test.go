package tray

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/platformtest"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestFetchOrderGolden(t *testing.T) {
	tests := []struct {
		fixture, id string
		check       func(t *testing.T, o domain.Order)
	}{
		{fixture: "order_complete", id: "48213", check: func(t *testing.T, o domain.Order) {
			if !o.PlacedAt.Equal(time.Date(2025, 11, 29, 1, 41, 7, 0, time.UTC)) {
				t.Fatalf("placed_at %v: 22:41 in São Paulo is 01:41 UTC next day", o.PlacedAt)
			}
			if o.Shipping == nil || o.Shipping.Street != "Avenida Paulista" || o.Billing == nil || o.Billing.Street != "Rua Harmonia" {
				t.Fatalf("addresses: shipping %+v billing %+v", o.Shipping, o.Billing)
			}
			if len(o.Lines) != 2 || o.Lines[0].VariantID != "5521" || o.Lines[1].VariantID != "" || o.Lines[0].Quantity != 2 {
				t.Fatalf("lines %+v", o.Lines)
			}
			// Sold at 89.90 against an original 99.90: the line says so, and the order's
			// discount holds it beside the coupon already inside Order.discount.
			if !o.Lines[0].UnitPrice.Amount.Equal(dec("99.90")) || !o.Lines[0].Discount.Amount.Equal(dec("20.00")) ||
				!o.Discount.Amount.Equal(dec("52.97")) {
				t.Fatalf("line 0 %+v, order discount %v", o.Lines[0], o.Discount)
			}
			if o.Note != "Entregar após 18h" || len(o.CouponCodes) != 1 || o.CouponCodes[0] != "BLACK10" || o.Pickup != nil || o.Fees != nil {
				t.Fatalf("note %q coupons %v pickup %+v fees %v", o.Note, o.CouponCodes, o.Pickup, o.Fees)
			}
		}},
		{fixture: "order_complete_company", id: "90417", check: func(t *testing.T, o domain.Order) {
			c := o.Customer
			if c.StateRegistration != "Isento" || c.Document != "12345678000195" || c.CompanyName == "" {
				t.Fatalf("customer %+v", c)
			}
			// The only delivery address is inactive: it is still where the order goes,
			// never the registration address.
			if o.Shipping == nil || o.Shipping.Street != "Rua Barão de Jaguara" || o.Billing == nil || o.Billing.Street != "Avenida Orosimbo Maia" {
				t.Fatalf("shipping %+v billing %+v", o.Shipping, o.Billing)
			}
			if o.Pickup == nil || o.Pickup.ID != "00074210" || o.Pickup.Address == nil || o.Pickup.Address.PostalCode != "13010970" || o.Pickup.Address.State != "SP" {
				t.Fatalf("pickup %+v", o.Pickup)
			}
			// taxes 12.50 + payment_method_rate 37.15 + interest 12.00; the coupon is
			// beside discount 0.00 and the total shows it was taken off.
			if o.Fees == nil || !o.Fees.Amount.Equal(dec("61.65")) || !o.Discount.Amount.Equal(dec("125")) || o.Tax != nil {
				t.Fatalf("fees %v discount %v tax %v", o.Fees, o.Discount, o.Tax)
			}
			if o.Note != "Retirar em nome de Joana" || len(o.CouponCodes) != 1 || o.CouponCodes[0] != "PRIMEIRA" {
				t.Fatalf("note %q coupons %v", o.Note, o.CouponCodes)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			e := newEnv(t, traysim.Options{}, nil)
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
			platformtest.Golden(t, tt.fixture+".golden.json", o, *update)
			// Checks that do not depend on the golden file being right.
			if msg := o.CheckTotal(); msg != "" {
				t.Fatalf("total does not add up: %s", msg)
			}
			tt.check(t, o)
		})
	}
}

func TestLineDiscountsSetting(t *testing.T) {
	e := newEnv(t, traysim.Options{}, map[string]string{"line_discounts": "false"})
	payload, err := os.ReadFile(filepath.Join("testdata", "order_complete.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AddOrder(testStore, payload); err != nil {
		t.Fatal(err)
	}
	o, err := e.c.FetchOrder(context.Background(), e.conn, "48213")
	if err != nil {
		t.Fatal(err)
	}
	if !o.Lines[0].UnitPrice.Amount.Equal(dec("89.90")) || !o.Lines[0].Discount.Amount.IsZero() || !o.Discount.Amount.Equal(dec("32.97")) || o.CheckTotal() != "" {
		t.Fatalf("line %+v discount %v check %q", o.Lines[0], o.Discount, o.CheckTotal())
	}
	e.conn.Settings["line_discounts"] = "maybe"
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "48213"); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "line_discounts") {
		t.Fatalf("bad setting: %v", err)
	}
}

func TestFetchOrderErrors(t *testing.T) {
	e := newEnv(t, traysim.Options{}, nil)
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "1"); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "order 1 not found") {
		t.Fatalf("missing order: %v", err)
	}
	_ = e.sim.AddOrder(testStore, []byte(`{"Order":{"id":"2","date":"2025-01-02","total":"-5"}}`))
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "2"); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "Order.total") {
		t.Fatalf("bad total: %v", err)
	}
	e.sim.InjectFault(testStore, traysim.Fault{Kind: traysim.FaultMalformed})
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "2"); kindOf(err) != platform.Transient {
		t.Fatalf("garbage: %v", err)
	}
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "1/../2"); kindOf(err) != platform.Permanent {
		t.Fatalf("bad id: %v", err)
	}
}

func FuzzNormaliseOrder(f *testing.F) {
	payload, err := os.ReadFile(filepath.Join("testdata", "order_complete.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(payload)
	f.Add([]byte(`{"Order":{"id":"1","date":"2025-01-01","ProductsSold":[{"ProductsSold":{"quantity":"1e9999","price":"1"}}]}}`))
	f.Add([]byte(`{"Order":{"id":1,"date":"2025-02-30","hour":"25:61","Customer":[],"CustomerAddress":[]}}`))
	f.Add([]byte(`{"Order":[]}`))
	f.Add([]byte(`null`))
	conn := domain.Connection{ID: "c1", Tenant: "t1"}
	sp := platform.SaoPaulo()
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := normaliseOrder(body, conn, settings{currency: "BRL", lineDiscounts: true}, sp)
		if err != nil {
			return
		}
		if o.PlatformID == "" || o.PlacedAt.IsZero() || o.Total.Currency != "BRL" {
			t.Fatalf("accepted an incomplete order %+v", o)
		}
		for _, l := range o.Lines {
			if l.Quantity <= 0 || l.UnitPrice.Amount.IsNegative() {
				t.Fatalf("bad line %+v", l)
			}
		}
	})
}
