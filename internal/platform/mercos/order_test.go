package mercos

import (
	"bytes"
	"context"
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
	"github.com/ponte-hub/ponte/internal/platform/mercos/mercossim"
	"github.com/ponte-hub/ponte/internal/platform/platformtest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func loadJSON(t testing.TB, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// seedOrderEnv loads the testdata client, products 1001 (simple) and 1002/1003 (grid
// parent and child) and the order.
func seedOrderEnv(t *testing.T, settings map[string]string) *env {
	e := newEnv(t, mercossim.Options{}, mercossim.StoreConfig{}, settings)
	if id := e.sim.AddProduct(testStore, "CAN-01", "Caneca", 10, dec("2.21")); id != 1001 {
		t.Fatalf("product id %d", id)
	}
	if p, kids := e.sim.AddGridProduct(testStore, "CAM", "Camiseta", dec("12.32"), []string{"P"}); p != 1002 || kids[0] != 1003 {
		t.Fatalf("grid ids %d %v", p, kids)
	}
	e.sim.AddCustomer(testStore, loadJSON(t, "cliente.json"))
	e.sim.AddOrder(testStore, loadJSON(t, "pedido.json"))
	return e
}

func TestPollOrdersGolden(t *testing.T) {
	e := seedOrderEnv(t, nil)
	page, err := e.c.PollOrders(context.Background(), e.conn, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Orders) != 1 || page.More || page.Next == "" {
		t.Fatalf("page %+v", page)
	}
	platformtest.Golden(t, "pedido.golden.json", page.Orders[0], *update)
	o := page.Orders[0]
	if msg := o.CheckTotal(); msg != "" {
		t.Fatal(msg)
	}
	if o.Discount.Amount.StringFixed(2) != "7.45" || o.Note != "Envio após 1 dia útil." || len(o.CouponCodes) != 1 || o.CouponCodes[0] != "NOVOCLIENTE" || o.Tax != nil {
		t.Fatalf("discount %s note %q coupons %v tax %v", o.Discount.Amount, o.Note, o.CouponCodes, o.Tax)
	}
	if !o.PlacedAt.Equal(time.Date(2025, 3, 11, 1, 19, 45, 0, time.UTC)) {
		t.Fatalf("placed_at %v: 22:19:45 in São Paulo is 01:19:45 UTC next day", o.PlacedAt)
	}
	if o.Customer.Document != "46487899000110" || o.Customer.TradeName != "Zé Store" || o.Shipping.Street != "Av. Rolf Wiest" ||
		o.Billing.Street != "Rua Abdon Batista" || len(o.Lines) != 2 || o.Lines[1].VariantID != "1003" || o.Lines[1].SKU != "CAM-P" ||
		o.Lines[0].Discount.Amount.StringFixed(2) != "1.30" || o.ShippingCost.Amount.StringFixed(2) != "15.00" {
		t.Fatalf("order %+v", o)
	}
	// Polling again from Next gives nothing new; the same order changed later comes again.
	again, err := e.c.PollOrders(context.Background(), e.conn, page.Next)
	if err != nil || len(again.Orders) != 0 {
		t.Fatalf("repoll: %v %+v", err, again)
	}
	if err := e.c.WriteOrderStatus(context.Background(), e.conn, "2079512", domain.OrderStatusUpdate{TrackingCode: "BR123"}); err != nil {
		t.Fatal(err)
	}
	if f, _ := e.sim.Order(testStore, 2079512); f["rastreamento"] != "BR123" {
		t.Fatalf("tracking not written: %v", f["rastreamento"])
	}
	// FetchOrder (sandbox route) normalises the same way.
	fo, err := e.c.FetchOrder(context.Background(), e.conn, "2079512")
	if err != nil || fo.Customer.Email != "jose@zestore.com.br" {
		t.Fatalf("fetch: %v %+v", err, fo.Customer)
	}
}

// TestPollOrdersSameSecond pages orders that share seconds with a page size that ends
// pages mid-second: every order comes exactly once, and new orders in an already-read
// second still arrive.
func TestPollOrdersSameSecond(t *testing.T) {
	for _, inclusive := range []string{"true", "false"} {
		t.Run("inclusive="+inclusive, func(t *testing.T) {
			e := newEnv(t, mercossim.Options{ExclusiveAfter: inclusive == "false"}, mercossim.StoreConfig{},
				map[string]string{"page_size": "3", "alterado_apos_inclusive": inclusive})
			add := func(id int, ts string) {
				e.sim.AddOrder(testStore, map[string]any{"id": id, "cliente_id": 0, "status": "2", "total": 1,
					"data_criacao": ts, "ultima_alteracao": ts, "itens": []any{}})
			}
			// Two orders a second, pages of three: every page ends mid-second.
			for i := 1; i <= 7; i++ {
				add(i, "2025-03-10 10:00:0"+strconv.Itoa(i/2))
			}
			seen := map[string]int{}
			poll := func(cur string) string {
				for range 20 {
					page, err := e.c.PollOrders(context.Background(), e.conn, cur)
					if err != nil {
						t.Fatal(err)
					}
					for _, o := range page.Orders {
						seen[o.PlatformID]++
					}
					cur = page.Next
					if !page.More {
						return cur
					}
				}
				t.Fatal("never finished")
				return ""
			}
			cur := poll("")
			add(8, "2025-03-10 10:00:03") // written later within the second the cursor stands in
			poll(cur)
			if len(seen) != 8 {
				t.Fatalf("seen %v", seen)
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("order %s delivered %d times", id, n)
				}
			}
		})
	}
}

func TestWriteOrderStatus(t *testing.T) {
	e := seedOrderEnv(t, nil)
	ctx := context.Background()
	if err := e.c.WriteOrderStatus(ctx, e.conn, "2079512", domain.OrderStatusUpdate{PlatformStatus: "cancelado"}); err != nil {
		t.Fatal(err)
	}
	if f, _ := e.sim.Order(testStore, 2079512); f["status"] != "0" {
		t.Fatalf("status %v", f["status"])
	}
	if err := e.c.WriteOrderStatus(ctx, e.conn, "2079512", domain.OrderStatusUpdate{PlatformStatus: "Em separação"}); kindOf(err) != platform.Permanent {
		t.Fatalf("unsupported status: %v", err)
	}
	if err := e.c.WriteOrderStatus(ctx, e.conn, "42", domain.OrderStatusUpdate{PlatformStatus: "0"}); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("missing order: %v", err)
	}
	if err := e.c.WriteOrderStatus(ctx, e.conn, "../1", domain.OrderStatusUpdate{PlatformStatus: "0"}); kindOf(err) != platform.Permanent {
		t.Fatalf("bad id: %v", err)
	}
}

func TestVerifyWebhook(t *testing.T) {
	e := newEnv(t, mercossim.Options{}, mercossim.StoreConfig{}, nil)
	tests := []struct {
		name string
		req  platform.WebhookRequest
	}{
		{"empty", platform.WebhookRequest{}},
		{"signed-looking", platform.WebhookRequest{Header: map[string][]string{"X-Signature": {"abc"}}, Body: []byte(`{"id":1}`)}},
		{"huge", platform.WebhookRequest{Body: bytes.Repeat([]byte("a"), 2<<20)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.c.VerifyWebhook(context.Background(), e.conn, tt.req)
			if kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "no webhooks") {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestPushCustomers(t *testing.T) {
	e := newEnv(t, mercossim.Options{}, mercossim.StoreConfig{}, nil)
	good := domain.Customer{Name: "Maria", CompanyName: "Mercearia Boa Vista LTDA", TradeName: "Boa Vista",
		Document: "12.345.678/0001-95", Email: "compras@boavista.com.br", Phones: []string{"(47) 3333-4444"},
		Address: &domain.Address{Street: "Rua XV", Number: "10", City: "Blumenau", State: "sc", PostalCode: "89010-000"}}
	res := e.c.PushCustomers(context.Background(), e.conn, []platform.CustomerUpdate{
		{Customer: good},
		{Customer: domain.Customer{}}, // no name
		{Customer: domain.Customer{Name: "Dup", Document: "12345678000195"}},    // same CNPJ: Mercos refuses
		{Customer: domain.Customer{Name: "Pessoa", Document: "123.456.789-09"}}, // CPF
		{PlatformID: "999999", Customer: domain.Customer{Name: "Ghost"}},        // update of an unknown client
		{Customer: domain.Customer{Name: "Bad doc", Document: "123"}},           // not a CPF or CNPJ
	})
	if res[0].Err != nil || res[0].PlatformID == "" {
		t.Fatalf("create: %+v", res[0])
	}
	id, _ := strconv.ParseInt(res[0].PlatformID, 10, 64)
	f, ok := e.sim.Customer(testStore, id)
	if !ok || f["razao_social"] != "Mercearia Boa Vista LTDA" || f["nome_fantasia"] != "Boa Vista" || f["cnpj"] != "12345678000195" ||
		f["tipo"] != "J" || f["estado"] != "SC" || f["cep"] != "89010000" {
		t.Fatalf("stored %v", f)
	}
	for i, want := range []string{"", "razao_social", "CNPJ", "", "not found", "CNPJ (14 digits)"} {
		if want == "" {
			continue
		}
		if err := res[i].Err; kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), want) {
			t.Fatalf("customer %d: %v, want permanent containing %q", i, err, want)
		}
	}
	if res[3].Err != nil {
		t.Fatalf("cpf customer: %v", res[3].Err)
	}
	// Update keeps the id.
	good.TradeName = "Boa Vista Atacado"
	res = e.c.PushCustomers(context.Background(), e.conn, []platform.CustomerUpdate{{PlatformID: strconv.FormatInt(id, 10), Customer: good}})
	if res[0].Err != nil || res[0].PlatformID != strconv.FormatInt(id, 10) {
		t.Fatalf("update %+v", res[0])
	}
	if f, _ := e.sim.Customer(testStore, id); f["nome_fantasia"] != "Boa Vista Atacado" {
		t.Fatalf("not updated: %v", f)
	}
}

func FuzzNormaliseOrder(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "pedido.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"id":1,"data_criacao":"2025-02-30 25:61:00","itens":[{"produto_id":1,"quantidade":"1e9999"}]}`))
	f.Add([]byte(`{"id":"7","total":"-5","itens":null,"endereco_entrega":[]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	conn := domain.Connection{ID: "c1", Tenant: "t1"}
	sp := platform.SaoPaulo()
	lk := lookups{products: map[int64]productRef{1001: {ID: 1001, Codigo: "A"}, 1003: {ID: 1003, ParentID: 1002}}}
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := normaliseOrder(body, conn, "BRL", sp, lk)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if o.PlatformID == "" || o.PlacedAt.IsZero() || o.Total.Currency != "BRL" || o.Total.Amount.IsNegative() {
			t.Fatalf("accepted an incomplete order %+v", o)
		}
		for _, l := range o.Lines {
			if l.Quantity <= 0 || l.UnitPrice.Amount.IsNegative() || l.Discount.Amount.IsNegative() {
				t.Fatalf("bad line %+v", l)
			}
		}
	})
}

func FuzzFilterPage(f *testing.F) {
	f.Add([]byte(`[{"id":1,"ultima_alteracao":"2025-01-01 10:00:00"},{"id":2,"ultima_alteracao":"2025-01-01T10:00:01"}]`), "2025-01-01 10:00:00", int64(1))
	f.Add([]byte(`[{"id":"x"}]`), "2000-01-01 00:00:00", int64(0))
	f.Add([]byte(`{"mensagem":"x"}`), "2000-01-01 00:00:00", int64(0))
	f.Fuzz(func(t *testing.T, body []byte, ts string, seen int64) {
		cur := cursor{T: ts, IDs: []int64{seen}}
		recs, next, err := filterPage(body, cur)
		if err != nil {
			return
		}
		for _, r := range recs {
			if r.ts < cur.T || (r.ts == cur.T && r.id == seen) || r.ts > next.T {
				t.Fatalf("record %+v escaped the cursor %+v -> %+v", r, cur, next)
			}
		}
		if next.T < cur.T {
			t.Fatalf("cursor went back: %v -> %v", cur, next)
		}
		if _, err := decodeCursor(next.encode(), Epoch); err != nil && next.T == cur.T && len(recs) == 0 {
			return // an invalid starting time stays invalid
		}
	})
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(cursor{T: "2025-01-01 10:00:00", IDs: []int64{1, 2}}.encode())
	f.Add("")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s, Epoch)
		if err != nil {
			return
		}
		if _, ok := timeKey(c.T); !ok {
			t.Fatalf("accepted cursor with bad time %q", c.T)
		}
	})
}

func FuzzVerifyWebhook(f *testing.F) {
	c := New(&memSecrets{}, Options{})
	f.Add([]byte(`{"id":1}`), "sig")
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		_, err := c.VerifyWebhook(context.Background(), domain.Connection{}, platform.WebhookRequest{
			Header: map[string][]string{"X-Signature": {sig}}, Body: body})
		if kindOf(err) != platform.Permanent {
			t.Fatalf("want permanent, got %v", err)
		}
	})
}

// An item whose subtotal holds IPI on top of net price × quantity: the difference is
// the line's tax, and the order's parts add up to its total.
func TestNormaliseOrderTaxFromSubtotal(t *testing.T) {
	body := []byte(`{"id":9,"numero":3,"status":"2","data_criacao":"2025-03-10 10:00:00","ultima_alteracao":"2025-03-10 10:00:00",
		"valor_frete":10,"total":126.5,"observacoes":"","cupom_de_desconto":"",
		"itens":[{"id":1,"produto_id":1001,"quantidade":4,"preco_tabela":25,"preco_liquido":25,"ipi":10,"tipo_ipi":"P","subtotal":110,"excluido":false},
		{"id":2,"produto_id":1001,"quantidade":1,"preco_tabela":7,"preco_liquido":6.5,"subtotal":6.5,"excluido":false}]}`)
	o, err := normaliseOrder(body, domain.Connection{ID: "c"}, "BRL", time.UTC, lookups{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Lines[0].Tax == nil || o.Lines[0].Tax.Amount.StringFixed(2) != "10.00" || o.Lines[1].Tax != nil ||
		o.Tax == nil || o.Tax.Amount.StringFixed(2) != "10.00" || o.Discount.Amount.StringFixed(2) != "0.50" || o.TaxesIncluded {
		t.Fatalf("lines %+v tax %v discount %s", o.Lines, o.Tax, o.Discount.Amount)
	}
	if msg := o.CheckTotal(); msg != "" {
		t.Fatal(msg)
	}
	if o.Note != "" || o.CouponCodes != nil {
		t.Fatalf("empty note/coupon kept: %q %v", o.Note, o.CouponCodes)
	}
}

// A new connection polls from its creation, not from 2000-01-01.
func TestPollOrdersStartsAtConnectionCreation(t *testing.T) {
	e := newEnv(t, mercossim.Options{}, mercossim.StoreConfig{}, nil)
	for i, ts := range []string{"2017-02-20 09:19:20", "2025-03-10 10:00:05"} {
		e.sim.AddOrder(testStore, map[string]any{"id": 100 + i, "cliente_id": 0, "status": "2", "total": 1,
			"data_criacao": ts, "ultima_alteracao": ts, "itens": []any{}})
	}
	e.conn.CreatedAt = time.Date(2025, 3, 10, 13, 0, 0, 0, time.UTC) // 10:00:00 in São Paulo
	page, err := e.c.PollOrders(context.Background(), e.conn, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Orders) != 1 || page.Orders[0].PlatformID != "101" {
		t.Fatalf("imported %+v", page.Orders)
	}
	e.conn.Settings["orders_since"] = "2017-01-01 00:00:00"
	page, err = e.c.PollOrders(context.Background(), e.conn, "")
	if err != nil || len(page.Orders) != 2 {
		t.Fatalf("orders_since: %v %d orders", err, len(page.Orders))
	}
	if d := e.c.DefaultOrderPollInterval(); d != 0 {
		t.Fatalf("pace %v: Mercos is poll-only", d)
	}
}

func TestWriteOrderInvoiceAndCustomStatus(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2025, 3, 12, 2, 30, 0, 0, time.UTC) // 23:30 on the 11th in São Paulo
	t.Run("invoice after the poll", func(t *testing.T) {
		e := seedOrderEnv(t, nil)
		if _, err := e.c.PollOrders(ctx, e.conn, ""); err != nil {
			t.Fatal(err)
		}
		u := domain.OrderStatusUpdate{PlatformStatus: "faturado", InvoiceNumber: "4512", InvoiceKey: "35250312345678000195550010000045121000045120", At: at}
		if err := e.c.WriteOrderStatus(ctx, e.conn, "2079512", u); err != nil {
			t.Fatal(err)
		}
		inv := e.sim.Invoices(testStore, 2079512)
		if len(inv) != 1 || inv[0].Value.StringFixed(2) != "91.25" || inv[0].Date != "2025-03-11" || inv[0].Number != "4512" ||
			!strings.Contains(inv[0].Info, "35250312345678000195550010000045121000045120") {
			t.Fatalf("invoices %+v", inv)
		}
		if f, _ := e.sim.Order(testStore, 2079512); f["status_faturamento"] != "2" {
			t.Fatalf("status_faturamento %v", f["status_faturamento"])
		}
		if calls := e.sim.Calls(testStore).ByEndpoint[mercossim.EpOrderGet]; calls != 0 {
			t.Fatalf("%d order reads: the polled total should have been used", calls)
		}
	})
	t.Run("invoice of an order not polled reads it", func(t *testing.T) {
		e := seedOrderEnv(t, nil)
		if err := e.c.WriteOrderStatus(ctx, e.conn, "2079512", domain.OrderStatusUpdate{PlatformStatus: "invoiced", At: at}); err != nil {
			t.Fatal(err)
		}
		if inv := e.sim.Invoices(testStore, 2079512); len(inv) != 1 || inv[0].Value.StringFixed(2) != "91.25" || inv[0].Number != "" {
			t.Fatalf("invoices %+v", inv)
		}
	})
	t.Run("invoice without the required fields is refused", func(t *testing.T) {
		e := seedOrderEnv(t, nil)
		e.sim.AddOrder(testStore, map[string]any{"id": 77, "cliente_id": 0, "status": "2", "total": 0,
			"data_criacao": "2025-03-10 10:00:00", "ultima_alteracao": "2025-03-10 10:00:00", "itens": []any{}})
		if _, err := e.c.PollOrders(ctx, e.conn, ""); err != nil {
			t.Fatal(err)
		}
		err := e.c.WriteOrderStatus(ctx, e.conn, "77", domain.OrderStatusUpdate{PlatformStatus: "faturado", At: at})
		if kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "valor_faturado") {
			t.Fatalf("got %v", err)
		}
		if inv := e.sim.Invoices(testStore, 77); len(inv) != 0 {
			t.Fatalf("invoices %+v", inv)
		}
	})
	t.Run("custom status with tracking", func(t *testing.T) {
		e := seedOrderEnv(t, nil)
		sid := e.sim.AddStatus(testStore, "Enviado")
		u := domain.OrderStatusUpdate{PlatformStatus: "status:" + strconv.FormatInt(sid, 10), TrackingCode: "QB123456789BR", Carrier: "Correios"}
		if err := e.c.WriteOrderStatus(ctx, e.conn, "2079512", u); err != nil {
			t.Fatal(err)
		}
		h := e.sim.StatusHistory(testStore, 2079512)
		if len(h) != 1 || h[0].Name != "Enviado" || !strings.Contains(h[0].Note, "QB123456789BR") || !strings.Contains(h[0].Note, "Correios") {
			t.Fatalf("history %+v", h)
		}
		if f, _ := e.sim.Order(testStore, 2079512); f["rastreamento"] != "QB123456789BR" {
			t.Fatalf("tracking %v", f["rastreamento"])
		}
	})
	t.Run("unknown custom status", func(t *testing.T) {
		e := seedOrderEnv(t, nil)
		for _, st := range []string{"status:999", "status:abc"} {
			if err := e.c.WriteOrderStatus(ctx, e.conn, "2079512", domain.OrderStatusUpdate{PlatformStatus: st}); kindOf(err) != platform.Permanent {
				t.Fatalf("%s: %v", st, err)
			}
		}
	})
}
