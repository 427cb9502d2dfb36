package nuvemshop

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/nuvemshop/nuvemshopsim"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestFetchOrderGolden(t *testing.T) {
	e := newEnv(t, nuvemshopsim.Options{}, nil)
	payload, err := os.ReadFile(filepath.Join("testdata", "order.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AddOrder(testStore, payload); err != nil {
		t.Fatal(err)
	}
	o, err := e.c.FetchOrder(context.Background(), e.conn, "1467083201")
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "order.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("normalised order differs from %s (-update to accept):\n%s", golden, got)
	}
	// Spot checks that do not depend on the golden file being right.
	if !o.PlacedAt.Equal(time.Date(2025, 11, 29, 1, 41, 7, 0, time.UTC)) || o.PlacedAt.Location() != time.UTC {
		t.Fatalf("placed_at %v: 22:41 at -03:00 is 01:41 UTC next day", o.PlacedAt)
	}
	if o.PlatformStatus != "paid" || o.Number != "3187" || o.PaymentMethod != "pix" || o.ShippingMethod != "Correios - SEDEX" {
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
	_ = e.sim.AddOrder(testStore, []byte(`{"id":3,"created_at":"2025-01-02T10:00:00+0000","products":[{"quantity":"0","price":"1"}]}`))
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
