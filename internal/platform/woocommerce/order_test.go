package woocommerce

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/platformtest"
	"github.com/ponte-hub/ponte/internal/platform/woocommerce/woocommercesim"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func golden(t *testing.T, name string, v any) {
	t.Helper()
	platformtest.Golden(t, name, v, *update)
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
		{"payment title", o.PaymentMethod, "Pix"},
		{"positive fee", money(*o.Fees), "5.00 BRL"},
		{"tax stated as zero", money(*o.Tax), "0.00 BRL"},
		{"coupon", strings.Join(o.CouponCodes, ","), "bemvinda15"},
		{"customer note", o.Note, "Entregar na portaria"},
		{"parts add up", o.CheckTotal(), ""},
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

// The two shapes the REST v3 docs publish: a single order (create response, webhook
// body) and the order list the poll reads. Money must add up to the platform's total.
func TestOrderShapesGolden(t *testing.T) {
	t.Run("single order, prices exclude tax", func(t *testing.T) {
		e := newEnv(t, woocommercesim.Options{}, nil)
		payload, err := os.ReadFile(filepath.Join("testdata", "order_tax_exclusive.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.sim.AddOrder(testStore, payload); err != nil {
			t.Fatal(err)
		}
		o, err := e.c.FetchOrder(ctx(t), e.conn, "1041")
		if err != nil {
			t.Fatal(err)
		}
		if msg := o.CheckTotal(); msg != "" {
			t.Fatal(msg)
		}
		golden(t, "order_tax_exclusive.golden.json", o)
	})
	t.Run("order list", func(t *testing.T) {
		e := newEnv(t, woocommercesim.Options{}, nil)
		payload, err := os.ReadFile(filepath.Join("testdata", "orders_list.json"))
		if err != nil {
			t.Fatal(err)
		}
		var raws []json.RawMessage
		if err := json.Unmarshal(payload, &raws); err != nil {
			t.Fatal(err)
		}
		for _, r := range raws {
			if err := e.sim.AddOrder(testStore, r); err != nil {
				t.Fatal(err)
			}
		}
		page, err := e.c.PollOrders(ctx(t), e.conn, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Orders) != len(raws) {
			t.Fatalf("polled %d orders, want %d", len(page.Orders), len(raws))
		}
		for _, o := range page.Orders {
			if msg := o.CheckTotal(); msg != "" {
				t.Fatalf("order %s: %s", o.PlatformID, msg)
			}
		}
		golden(t, "orders_list.golden.json", page.Orders)
	})
}

// Spot checks of the money rules and details, independent of the golden files.
func TestNormaliseOrderMoneyAndDetails(t *testing.T) {
	conn := domain.Connection{ID: "c1", Tenant: "t1", Currency: "BRL"}
	read := func(t *testing.T, file string, index int) domain.Order {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		if index >= 0 {
			var raws []json.RawMessage
			if err := json.Unmarshal(b, &raws); err != nil {
				t.Fatal(err)
			}
			b = raws[index]
		}
		o, err := NormaliseOrder(b, conn)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	money := func(m *domain.Money) string {
		if m == nil {
			return "nil"
		}
		return m.Amount.StringFixed(2) + " " + m.Currency
	}
	excl := read(t, "order_tax_exclusive.json", -1)
	br := read(t, "orders_list.json", 0)
	incl := read(t, "orders_list.json", 1)
	tests := []struct{ name, got, want string }{
		// Prices exclude tax: the unit price is the shop's (subtotal/quantity), tax on top.
		{"excl: unit price as stated, not taxed", money(&excl.Lines[0].UnitPrice), "4.50 USD"},
		{"excl: line coupon share net of tax", money(&excl.Lines[0].Discount), "0.90 USD"},
		{"excl: line tax", money(excl.Lines[0].Tax), "0.81 USD"},
		{"excl: order discount", money(&excl.Discount), "2.40 USD"},
		{"excl: shipping net", money(&excl.ShippingCost), "7.00 USD"},
		{"excl: fee net", money(excl.Fees), "2.00 USD"},
		{"excl: tax is total_tax", money(excl.Tax), "3.06 USD"},
		{"excl: taxes not included", strconv.FormatBool(excl.TaxesIncluded), "false"},
		{"excl: total", money(&excl.Total), "33.66 USD"},
		{"excl: coupon code", strings.Join(excl.CouponCodes, ","), "spring10"},
		{"excl: note", excl.Note, "Leave at the back door"},
		{"excl: payment title", excl.PaymentMethod, "Check payments"},
		{"excl: company", excl.Customer.CompanyName, "Park Supplies LLC"},
		{"excl: shipping address phone", excl.Shipping.Phone, "(503) 555-0199"},
		{"excl: shipping name", excl.Shipping.Name, "Ben Park"},
		{"excl: phones", strings.Join(excl.Customer.Phones, "|"), "(503) 555-0142|(503) 555-0199"},
		// Prices include tax: every part gross, tax inside.
		{"incl: unit price gross", money(&incl.Lines[0].UnitPrice), "12.00 EUR"},
		{"incl: line discount gross", money(&incl.Lines[0].Discount), "5.00 EUR"},
		{"incl: line tax", money(incl.Lines[0].Tax), "5.17 EUR"},
		{"incl: discount gross", money(&incl.Discount), "5.00 EUR"},
		{"incl: shipping gross", money(&incl.ShippingCost), "6.00 EUR"},
		{"incl: tax", money(incl.Tax), "6.17 EUR"},
		{"incl: taxes included", strconv.FormatBool(incl.TaxesIncluded), "true"},
		{"incl: no fees", money(incl.Fees), "nil"},
		{"incl: empty shipping address dropped", strconv.FormatBool(incl.Shipping == nil), "true"},
		// Brazilian fields from order meta (no REST extension in the body).
		{"br: CNPJ for persontype 2", br.Customer.Document, "11222333000181"},
		{"br: state registration", br.Customer.StateRegistration, "Isento"},
		{"br: billing number", br.Billing.Number, "455"},
		{"br: billing neighborhood", br.Billing.Neighborhood, "Centro"},
		{"br: shipping number", br.Shipping.Number, "2100"},
		{"br: shipping neighborhood", br.Shipping.Neighborhood, "Batel"},
		{"br: phones", strings.Join(br.Customer.Phones, "|"), "(41) 3222-1100|(41) 99876-5432"},
		{"br: cellphone on the address", br.Billing.Phone, "(41) 99876-5432"},
		{"br: PIX discount fee", money(&br.Discount), "5.00 BRL"},
		{"br: no positive fee", money(br.Fees), "nil"},
		{"br: total kept despite refunds", money(&br.Total), "103.30 BRL"},
		{"br: note", br.Note, "Favor entregar após as 14h"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	for _, o := range []domain.Order{excl, br, incl} {
		if msg := o.CheckTotal(); msg != "" {
			t.Errorf("order %s: %s", o.PlatformID, msg)
		}
	}
}

// A new connection polls from its creation: an order last changed before it (the
// REST docs' 2017 example shape) is never imported, one changed after it is; the
// orders_since setting moves the start.
func TestPollOrdersStartsAtConnectionCreation(t *testing.T) {
	old := `{"id":723,"status":"completed","currency":"USD","date_created_gmt":"2017-03-21T19:16:00","date_modified_gmt":"2017-03-21T19:54:51","total":"39.00"}`
	recent := `{"id":5000,"status":"processing","currency":"BRL","date_created_gmt":"2024-06-01T12:00:30","date_modified_gmt":"2024-06-01T12:00:30","total":"10.00"}`
	ids := func(p platform.OrderPage) string {
		var out []string
		for _, o := range p.Orders {
			out = append(out, o.PlatformID)
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		name     string
		settings map[string]string
		created  time.Time
		now      time.Time
		want     string
		next     string
	}{
		{name: "from the connection's creation", created: testConnCreated, want: "5000", next: "2024-06-01T12:00:29Z|1"},
		{name: "orders_since reaches back", settings: map[string]string{"orders_since": "2017-01-01T00:00:00Z"}, created: testConnCreated, want: "723,5000"},
		// modified_after is exclusive, in whole seconds: the start is a second before creation.
		{name: "nothing new keeps the start", created: time.Date(2025, 1, 1, 0, 0, 0, 500, time.UTC), want: "", next: "2024-12-31T23:59:59Z|1"},
		{name: "no creation time starts now", now: time.Date(2024, 6, 1, 12, 0, 10, 0, time.UTC), want: "5000", next: "2024-06-01T12:00:29Z|1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, woocommercesim.Options{}, tt.settings, Options{Now: func() time.Time { return tt.now }})
			e.conn.CreatedAt = tt.created
			for _, b := range []string{old, recent} {
				if err := e.sim.AddOrder(testStore, []byte(b)); err != nil {
					t.Fatal(err)
				}
			}
			page, err := e.c.PollOrders(ctx(t), e.conn, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(page); got != tt.want {
				t.Fatalf("imported %q, want %q", got, tt.want)
			}
			if tt.next != "" && page.Next != tt.next {
				t.Fatalf("next %q, want %q", page.Next, tt.next)
			}
			if calls := e.calls().ByEndpoint[woocommercesim.EpOrders]; calls != 1 {
				t.Fatalf("%d list calls", calls)
			}
		})
	}
}

func TestDefaultOrderPollInterval(t *testing.T) {
	var p platform.OrderPollPacer = New(&memSecrets{}, Options{})
	if d := p.DefaultOrderPollInterval(); d != 0 {
		t.Fatalf("pace %v: WooCommerce does not retry webhooks, polling runs every tick", d)
	}
}
