package merchantpro

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
	"github.com/ponte-hub/ponte/internal/platform/merchantpro/merchantprosim"
	"github.com/ponte-hub/ponte/internal/platform/platformtest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestFetchOrderGolden(t *testing.T) {
	for _, tc := range []struct{ file, id string }{{"order_company", "20431"}, {"order_person", "20432"}} {
		t.Run(tc.file, func(t *testing.T) {
			e := newEnv(t, merchantprosim.Options{}, nil)
			payload, err := os.ReadFile(filepath.Join("testdata", tc.file+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.sim.AddOrder(testStore, payload); err != nil {
				t.Fatal(err)
			}
			o, err := e.c.FetchOrder(context.Background(), e.conn, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			platformtest.Golden(t, tc.file+".golden.json", o, *update)
		})
	}
}

// Spot checks that do not depend on the golden file being right.
func TestNormalizeOrderFacts(t *testing.T) {
	raw, _ := os.ReadFile(filepath.Join("testdata", "order_company.json"))
	o, err := NormalizeOrder(raw, "RON", bucharest())
	if err != nil {
		t.Fatal(err)
	}
	if !o.PlacedAt.Equal(time.Date(2025, 11, 28, 20, 41, 7, 0, time.UTC)) {
		t.Fatalf("placed_at %v: 22:41 in Bucharest (EET, +2) is 20:41 UTC", o.PlacedAt)
	}
	c := o.Customer
	if c.CompanyName != "Atelierul Verde SRL" || c.Document != "RO18547290" || c.Name != "Ana Popescu" ||
		c.Email != "achizitii@atelierul-verde.ro" || len(c.Phones) != 1 {
		t.Fatalf("customer %+v", c)
	}
	if o.Shipping.City != "Cluj-Napoca" || o.Billing.Country != "RO" || o.Shipping.Complement != "Depozit 2, rampa B" {
		t.Fatalf("addresses %+v %+v", o.Billing, o.Shipping)
	}
	if len(o.Lines) != 2 || o.Lines[0].VariantID != "1101" || o.Lines[1].VariantID != "" ||
		o.Lines[0].Quantity != 2 || o.Lines[0].UnitPrice.Amount.StringFixed(2) != "79.90" ||
		o.Lines[0].Discount.Amount.StringFixed(2) != "15.98" || o.Lines[1].UnitPrice.Amount.StringFixed(2) != "45.00" {
		t.Fatalf("lines %+v", o.Lines)
	}
	if o.Total.Amount.StringFixed(2) != "208.81" || o.ShippingCost.Amount.StringFixed(2) != "19.99" ||
		o.Discount.Amount.StringFixed(2) != "15.98" || o.PaymentMethod != "Card online (Netopia)" ||
		o.ShippingMethod != "Curier FAN Courier" || o.PlatformStatus != "new" {
		t.Fatalf("order %+v", o)
	}
	p, _ := os.ReadFile(filepath.Join("testdata", "order_person.json"))
	o, err = NormalizeOrder(p, "RON", bucharest())
	if err != nil {
		t.Fatal(err)
	}
	if !o.PlacedAt.Equal(time.Date(2026, 3, 29, 7, 15, 0, 0, time.UTC)) || o.PaymentMethod != "Ramburs" ||
		o.Shipping == nil || o.Shipping.City != "Iași" || o.Customer.Name != "Ioana Dumitrescu" {
		t.Fatalf("person order %+v", o)
	}
}

func TestNormalizeOrderErrors(t *testing.T) {
	base := `"date_created":"2025-01-02 10:00:00","status":"new","total_amount_gross":"10","billing_address":{"name":"A"}`
	tests := []struct{ name, body, want string }{
		{"not json", `<html>`, "not a JSON object"},
		{"no id", `{` + base + `,"lines":[{"sku":"A","quantity":1,"unit_price_gross":"1"}]}`, "field id"},
		{"no lines", `{"id":1,` + base + `}`, "field lines is missing"},
		{"empty lines", `{"id":1,` + base + `,"lines":[]}`, "field lines is empty"},
		{"fractional quantity", `{"id":1,` + base + `,"lines":[{"sku":"A","quantity":1.5,"unit_price_gross":"1"}]}`, "lines[0].quantity"},
		{"bad price", `{"id":1,` + base + `,"lines":[{"sku":"A","quantity":1,"unit_price_gross":"abc"}]}`, "lines[0].unit_price_gross"},
		{"no price", `{"id":1,` + base + `,"lines":[{"sku":"A","quantity":1}]}`, "lines[0].unit_price_gross is missing"},
		{"line not object", `{"id":1,` + base + `,"lines":[7]}`, "lines[0] is not an object"},
		{"bad date", `{"id":1,"date_created":"yesterday","status":"new","lines":[]}`, "field date_created"},
		{"no status", `{"id":1,"date_created":"2025-01-02 10:00:00"}`, "field status"},
		{"no total", `{"id":1,"date_created":"2025-01-02 10:00:00","status":"new","billing_address":{"name":"A"}}`, "total_amount_gross"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NormalizeOrder([]byte(tt.body), "RON", nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestFetchOrderErrors(t *testing.T) {
	e := newEnv(t, merchantprosim.Options{}, nil)
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "999"); kindOf(err) != platform.Permanent {
		t.Fatalf("missing order: %v", err)
	}
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "1/../2"); kindOf(err) != platform.Permanent {
		t.Fatalf("bad id: %v", err)
	}
	raw, _ := os.ReadFile(filepath.Join("testdata", "order_company.json"))
	_ = e.sim.AddOrder(testStore, raw)
	e.sim.InjectFault(testStore, merchantprosim.Fault{Kind: merchantprosim.FaultTruncated})
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "20431"); kindOf(err) != platform.Transient {
		t.Fatalf("truncated: %v", err)
	}
	e.sim.InjectFault(testStore, merchantprosim.Fault{Kind: merchantprosim.FaultMalformed})
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "20431"); kindOf(err) != platform.Transient {
		t.Fatalf("malformed: %v", err)
	}
	o, err := e.c.FetchOrder(context.Background(), e.conn, "20431")
	if err != nil || o.ConnectionID != "conn1" || o.Tenant != "t1" {
		t.Fatalf("order %+v, %v", o, err)
	}
}

func TestPollOrders(t *testing.T) {
	e := newEnv(t, merchantprosim.Options{}, map[string]string{"page_size": "1"})
	for _, f := range []string{"order_company", "order_person"} {
		raw, _ := os.ReadFile(filepath.Join("testdata", f+".json"))
		if err := e.sim.AddOrder(testStore, raw); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	p1, err := e.c.PollOrders(ctx, e.conn, "")
	if err != nil || len(p1.Orders) != 1 || p1.Orders[0].PlatformID != "20431" || !p1.More || p1.Next != "1" {
		t.Fatalf("page 1 %+v %v", p1, err)
	}
	p2, err := e.c.PollOrders(ctx, e.conn, p1.Next)
	if err != nil || len(p2.Orders) != 1 || p2.Orders[0].PlatformID != "20432" || p2.More || p2.Next != "2" {
		t.Fatalf("page 2 %+v %v", p2, err)
	}
	p3, err := e.c.PollOrders(ctx, e.conn, p2.Next)
	if err != nil || len(p3.Orders) != 0 || p3.More || p3.Next != "2" {
		t.Fatalf("page 3 %+v %v", p3, err)
	}
	if _, err := e.c.PollOrders(ctx, e.conn, "-3"); kindOf(err) != platform.Permanent {
		t.Fatalf("bad cursor: %v", err)
	}
}

func TestWriteOrderStatus(t *testing.T) {
	e := newEnv(t, merchantprosim.Options{}, nil)
	raw, _ := os.ReadFile(filepath.Join("testdata", "order_company.json"))
	_ = e.sim.AddOrder(testStore, raw)
	ctx := context.Background()
	u := platformStatus("shipped", "AWB2345678901", "https://www.fancourier.ro/awb-tracking/?awb=AWB2345678901", "INV-2025-0042")
	if err := e.c.WriteOrderStatus(ctx, e.conn, "20431", u); err != nil {
		t.Fatal(err)
	}
	o, _ := e.sim.Order(testStore, 20431)
	if o["status"] != "shipped" || o["tracking_number"] != "AWB2345678901" || o["invoice_number"] != "INV-2025-0042" {
		t.Fatalf("order now %v", o)
	}
	if err := e.c.WriteOrderStatus(ctx, e.conn, "20431", platformStatus("teleported", "", "", "")); kindOf(err) != platform.Permanent ||
		!strings.Contains(err.Error(), "teleported") {
		t.Fatalf("unknown status: %v", err)
	}
	if err := e.c.WriteOrderStatus(ctx, e.conn, "1", platformStatus("shipped", "", "", "")); kindOf(err) != platform.Permanent {
		t.Fatalf("missing order: %v", err)
	}
	before := e.sim.Calls(testStore).Total
	if err := e.c.WriteOrderStatus(ctx, e.conn, "20431", domain.OrderStatusUpdate{}); err != nil || e.sim.Calls(testStore).Total != before {
		t.Fatalf("empty update should not call: %v", err)
	}
}

// TestPollOrdersStartsAtConnectionCreation: the order list has no date filter, so a new
// connection's poll pages through the shop's history once and imports only what was
// created since the connection (or since orders_since), keeping the offset past the rest.
// The fixtures were created 2025-11-28 22:41:07 Bucharest (20:41:07Z) and 2026-03-29 07:15Z.
func TestPollOrdersStartsAtConnectionCreation(t *testing.T) {
	between := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		createdAt time.Time
		since     string
		want      []string
	}{
		{"no creation time imports all", time.Time{}, "", []string{"20431", "20432"}},
		{"created between the orders", between, "", []string{"20432"}},
		{"created after both", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), "", nil},
		{"creation to the second is not before", time.Date(2025, 11, 28, 20, 41, 7, 0, time.UTC), "", []string{"20431", "20432"}},
		{"orders_since reaches back", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), "2025-01-01T00:00:00Z", []string{"20431", "20432"}},
		{"orders_since moves forward", time.Time{}, "2026-01-01T00:00:00+02:00", []string{"20432"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			settings := map[string]string{"page_size": "1"}
			if tc.since != "" {
				settings["orders_since"] = tc.since
			}
			e := newEnv(t, merchantprosim.Options{}, settings)
			e.conn.CreatedAt = tc.createdAt
			for _, f := range []string{"order_company", "order_person"} {
				raw, _ := os.ReadFile(filepath.Join("testdata", f+".json"))
				if err := e.sim.AddOrder(testStore, raw); err != nil {
					t.Fatal(err)
				}
			}
			ctx := context.Background()
			var got []string
			cursor := ""
			for range 5 {
				p, err := e.c.PollOrders(ctx, e.conn, cursor)
				if err != nil {
					t.Fatalf("poll from %q: %v", cursor, err)
				}
				for _, o := range p.Orders {
					got = append(got, o.PlatformID)
				}
				cursor = p.Next
				if !p.More {
					break
				}
			}
			if !slices.Equal(got, tc.want) || cursor != "2" {
				t.Errorf("imported %v ending at offset %q, want %v ending at 2", got, cursor, tc.want)
			}
			if n := e.endpoint(merchantprosim.EpOrderGet); n != 0 {
				t.Errorf("%d single-order fetches: list entries carry their dates", n)
			}
		})
	}
	e := newEnv(t, merchantprosim.Options{}, map[string]string{"orders_since": "yesterday"})
	if _, err := e.c.PollOrders(context.Background(), e.conn, ""); kindOf(err) != platform.Permanent ||
		!strings.Contains(err.Error(), "orders_since") {
		t.Errorf("bad orders_since: %v, want a permanent error naming it", err)
	}
}
