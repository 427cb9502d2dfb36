package woocommerce

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/woocommerce/woocommercesim"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs (-update to accept):\n%s", path, got)
	}
}

func TestFetchOrderGolden(t *testing.T) {
	for _, tc := range []struct{ file, id string }{{"order_created", "5123"}, {"order_guest_tax", "812"}} {
		t.Run(tc.file, func(t *testing.T) {
			e := newEnv(t, woocommercesim.Options{}, nil)
			payload, err := os.ReadFile(filepath.Join("testdata", tc.file+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.sim.AddOrder(testStore, payload); err != nil {
				t.Fatal(err)
			}
			o, err := e.c.FetchOrder(ctx(t), e.conn, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.file+".golden.json", o)
		})
	}
}

// Spot checks that do not depend on the golden file being right.
func TestNormaliseOrderFacts(t *testing.T) {
	conn := domain.Connection{ID: "c1", Tenant: "t1", Currency: "BRL"}
	body, _ := os.ReadFile(filepath.Join("testdata", "order_created.json"))
	o, err := NormaliseOrder(body, conn)
	if err != nil {
		t.Fatal(err)
	}
	money := func(m domain.Money) string { return m.Amount.StringFixed(2) + " " + m.Currency }
	checks := []struct{ name, got, want string }{
		{"placed_at", o.PlacedAt.Format(time.RFC3339), "2025-11-29T01:41:07Z"},
		{"updated_at", o.UpdatedAt.Format(time.RFC3339), "2025-11-29T01:45:30Z"},
		{"document is the CNPJ for persontype J", o.Customer.Document, "12345678000195"},
		{"email lower-cased", o.Customer.Email, "mariana.lima@example.com.br"},
		{"company", o.Customer.CompanyName, "Souza Lima Decoracoes ME"},
		{"external id", o.Customer.ExternalID, "87"},
		{"shipping street and number", o.Shipping.Street + " " + o.Shipping.Number, "Avenida Paulista 1578"},
		{"billing neighborhood", o.Billing.Neighborhood, "Vila Madalena"},
		{"line 1 variant", o.Lines[0].ProductID + "/" + o.Lines[0].VariantID, "3301/3305"},
		{"line 1 unit price before coupon", money(o.Lines[0].UnitPrice), "59.90 BRL"},
		{"line 1 coupon share", money(o.Lines[0].Discount), "10.00 BRL"},
		{"line 2 has no variant", o.Lines[1].VariantID, ""},
		{"discount: coupon + pix fee", money(o.Discount), "18.12 BRL"},
		{"shipping", money(o.ShippingCost), "23.40 BRL"},
		{"total", money(o.Total), "219.78 BRL"},
		{"payment", o.PaymentMethod, "woo-mercado-pago-pix"},
		{"shipping method", o.ShippingMethod, "SEDEX"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if len(o.Customer.Phones) != 2 {
		t.Errorf("phones %v", o.Customer.Phones)
	}
	guest, _ := os.ReadFile(filepath.Join("testdata", "order_guest_tax.json"))
	g, err := NormaliseOrder(guest, conn)
	if err != nil {
		t.Fatal(err)
	}
	if g.Shipping != nil || g.Customer.ExternalID != "" || g.Total.Currency != "USD" || money(g.Lines[0].UnitPrice) != "10.80 USD" || money(g.ShippingCost) != "10.80 USD" {
		t.Fatalf("guest order: %+v", g)
	}
}

func TestNormaliseOrderErrors(t *testing.T) {
	conn := domain.Connection{ID: "c1"}
	tests := []struct{ name, body, want string }{
		{"not json", "<html>", "not a WooCommerce order"},
		{"empty", "", "not a WooCommerce order"},
		{"array", "[]", "not a WooCommerce order"},
		{"no id", `{"status":"processing"}`, "field id"},
		{"zero id", `{"id":0}`, "field id"},
		{"bad total", `{"id":1,"total":"abc","date_created_gmt":"2025-01-01T00:00:00"}`, "field total"},
		{"negative shipping", `{"id":1,"shipping_total":"-1","date_created_gmt":"2025-01-01T00:00:00"}`, "field shipping_total"},
		{"no date", `{"id":1,"total":"1.00"}`, "field date_created_gmt"},
		{"bad date", `{"id":1,"date_created_gmt":"yesterday"}`, "field date_created_gmt"},
		{"wrong type", `{"id":1,"billing":"x"}`, "field billing"},
		{"bad quantity", `{"id":1,"date_created_gmt":"2025-01-01T00:00:00","line_items":[{"quantity":0}]}`, "line_items[0].quantity"},
		{"fractional quantity", `{"id":1,"date_created_gmt":"2025-01-01T00:00:00","line_items":[{"quantity":1.5}]}`, "line_items[0].quantity"},
		{"bad line total", `{"id":1,"date_created_gmt":"2025-01-01T00:00:00","line_items":[{"quantity":1,"total":"x"}]}`, "line_items[0].total"},
		{"bad currency", `{"id":1,"currency":"REAL","date_created_gmt":"2025-01-01T00:00:00"}`, "field currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NormaliseOrder([]byte(tt.body), conn)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestFetchOrderErrors(t *testing.T) {
	e := newEnv(t, woocommercesim.Options{}, nil)
	if _, err := e.c.FetchOrder(ctx(t), e.conn, "404"); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "order 404 not found") {
		t.Fatalf("missing: %v", err)
	}
	if _, err := e.c.FetchOrder(ctx(t), e.conn, "1/../2"); kindOf(err) != platform.Permanent {
		t.Fatalf("bad id: %v", err)
	}
	body, _ := os.ReadFile(filepath.Join("testdata", "order_created.json"))
	_ = e.sim.AddOrder(testStore, body)
	e.sim.InjectFault(testStore, woocommercesim.Fault{Kind: woocommercesim.FaultMalformed})
	if _, err := e.c.FetchOrder(ctx(t), e.conn, "5123"); kindOf(err) != platform.Transient {
		t.Fatalf("malformed: %v", err)
	}
	e.sim.InjectFault(testStore, woocommercesim.Fault{Kind: woocommercesim.FaultTruncated})
	if _, err := e.c.FetchOrder(ctx(t), e.conn, "5123"); kindOf(err) != platform.Transient {
		t.Fatalf("truncated: %v", err)
	}
}

func TestPollOrders(t *testing.T) {
	e := newEnv(t, woocommercesim.Options{}, map[string]string{"page_size": "2"})
	for i, mod := range []string{"2025-01-01T10:00:00", "2025-01-01T10:00:05", "2025-01-01T10:00:05", "2025-01-02T08:00:00", "2025-01-03T08:00:00"} {
		body := `{"id":` + string(rune('1'+i)) + `,"status":"processing","date_created_gmt":"2025-01-01T09:00:00","date_modified_gmt":"` + mod + `","total":"1.00"}`
		if err := e.sim.AddOrder(testStore, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	cursor := ""
	for range 10 {
		page, err := e.c.PollOrders(ctx(t), e.conn, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Orders {
			seen = append(seen, o.PlatformID)
		}
		cursor = page.Next
		if !page.More {
			break
		}
	}
	if strings.Join(seen, ",") != "1,2,3,4,5" {
		t.Fatalf("first pass saw %v", seen)
	}
	// An order modified later is picked up by the next pass; the overlap second repeats only order 5.
	_ = e.sim.AddOrder(testStore, []byte(`{"id":9,"status":"processing","date_created_gmt":"2025-01-04T09:00:00","date_modified_gmt":"2025-01-04T09:00:00","total":"1.00"}`))
	page, err := e.c.PollOrders(ctx(t), e.conn, cursor)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range page.Orders {
		ids = append(ids, o.PlatformID)
	}
	if strings.Join(ids, ",") != "5,9" || page.More || !strings.HasPrefix(page.Next, "2025-01-04T08:59:59Z|") {
		t.Fatalf("second pass %v next %q", ids, page.Next)
	}
	if _, err := e.c.PollOrders(ctx(t), e.conn, "garbage"); kindOf(err) != platform.Permanent {
		t.Fatalf("bad cursor: %v", err)
	}
}

func TestWriteOrderStatus(t *testing.T) {
	tests := []struct {
		name      string
		settings  map[string]string
		u         domain.OrderStatusUpdate
		wantState string
		wantMeta  map[string]string
		wantNotes int
		wantErr   string
	}{
		{name: "status only", u: domain.OrderStatusUpdate{PlatformStatus: "completed"}, wantState: "completed"},
		{name: "wc- prefix", u: domain.OrderStatusUpdate{PlatformStatus: "wc-cancelled"}, wantState: "cancelled"},
		{name: "shipped with tracking and invoice",
			u: domain.OrderStatusUpdate{PlatformStatus: "completed", TrackingCode: "QB123456789BR", TrackingURL: "https://rastreamento.correios.com.br/?objetos=QB123456789BR",
				Carrier: "Correios", InvoiceNumber: "1234", InvoiceKey: "35251112345678000195550010000012341000012345"},
			wantState: "completed", wantNotes: 1,
			wantMeta: map[string]string{MetaTrackingCode: "QB123456789BR", MetaCarrier: "Correios", MetaInvoiceNumber: "1234"}},
		{name: "no note when disabled", settings: map[string]string{"tracking_note": "none"},
			u: domain.OrderStatusUpdate{TrackingCode: "X1"}, wantState: "processing", wantMeta: map[string]string{MetaTrackingCode: "X1"}},
		{name: "unknown status", u: domain.OrderStatusUpdate{PlatformStatus: "shipped-ish"}, wantErr: "status"},
		{name: "bad slug", u: domain.OrderStatusUpdate{PlatformStatus: "Com pleted"}, wantErr: "not a WooCommerce status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, woocommercesim.Options{}, tt.settings)
			body, _ := os.ReadFile(filepath.Join("testdata", "order_created.json"))
			_ = e.sim.AddOrder(testStore, body)
			err := e.c.WriteOrderStatus(ctx(t), e.conn, "5123", tt.u)
			if tt.wantErr != "" {
				if err == nil || kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			o, _ := e.sim.Order(testStore, 5123)
			if o["status"] != tt.wantState {
				t.Fatalf("status %v", o["status"])
			}
			meta := map[string]string{}
			for _, m := range o["meta_data"].([]any) {
				mm := m.(map[string]any)
				if v, ok := mm["value"].(string); ok {
					meta[mm["key"].(string)] = v
				}
			}
			for k, v := range tt.wantMeta {
				if meta[k] != v {
					t.Fatalf("meta %s = %q, want %q", k, meta[k], v)
				}
			}
			notes := e.sim.Notes(testStore, 5123)
			if len(notes) != tt.wantNotes || (len(notes) == 1 && (!notes[0].Customer || !strings.Contains(notes[0].Note, "QB123456789BR"))) {
				t.Fatalf("notes %+v", notes)
			}
		})
	}
	t.Run("missing order", func(t *testing.T) {
		e := newEnv(t, woocommercesim.Options{}, nil)
		err := e.c.WriteOrderStatus(ctx(t), e.conn, "77", domain.OrderStatusUpdate{PlatformStatus: "completed"})
		if kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "order 77 not found") {
			t.Fatalf("got %v", err)
		}
	})
}
