package simorders_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/platformsim"
	"github.com/ponte-hub/ponte/internal/platforms"
)

type memSecrets struct {
	mu   sync.Mutex
	data map[string]map[string]string
}

func (m *memSecrets) GetSecret(_ context.Context, ref string) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.data[ref]
	if !ok {
		return nil, fmt.Errorf("no secret %q", ref)
	}
	out := map[string]string{}
	for k, s := range v {
		out[k] = s
	}
	return out, nil
}

func (m *memSecrets) PutSecret(_ context.Context, ref string, values map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[ref] = values
	return nil
}

// tamperBody flips the delivery's last byte (a space is added when it is JSON), which any
// signature over the body must reject.
func tamperBody(d platformsim.Delivery) platformsim.Delivery {
	d.Body = append(bytes.Clone(d.Body), ' ')
	return d
}

// tamperSeller is Tray's case: it signs nothing, so the delivery claiming another store is
// what must be rejected.
func tamperSeller(d platformsim.Delivery) platformsim.Delivery {
	v, _ := url.ParseQuery(string(d.Body))
	v.Set("seller_id", v.Get("seller_id")+"9")
	d.Body = []byte(v.Encode())
	return d
}

type platformCase struct {
	name  string
	store string
	// first is the status of the first placement ("" for the platform's default).
	first string
	// updated is the status the second placement sets, as the connector reports it.
	updated string
	// write is the status the hub writes back; shown is how the store then shows it.
	write, shown string
	// tamper breaks the delivery; nil means the platform sends none (the hub polls).
	tamper func(platformsim.Delivery) platformsim.Delivery
}

func TestPlaceOrderReachesConnector(t *testing.T) {
	cases := []platformCase{
		{name: "tray", store: "store1", updated: "AGUARDANDO PAGAMENTO", write: "ENVIADO", shown: "ENVIADO", tamper: tamperSeller},
		{name: "shopify", store: "shop1", updated: "authorized", write: "fulfilled", shown: "fulfilled", tamper: tamperBody},
		{name: "woocommerce", store: "woo1", updated: "on-hold", write: "completed", shown: "completed", tamper: tamperBody},
		{name: "merchantpro", store: "mp1", updated: "confirmed", write: "shipped", shown: "shipped", tamper: tamperBody},
		{name: "mercos", store: "m1", first: "1", updated: "2", write: "cancelado", shown: "0"},
		{name: "nuvemshop", store: "123456", updated: "authorized", write: "fulfilled", shown: "fulfilled", tamper: tamperBody},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.name] = true
		t.Run(tc.name, func(t *testing.T) { runCase(t, tc) })
	}
	for _, name := range platforms.Names() {
		if !covered[name] {
			t.Errorf("platform %s has no case here: every simulator must place orders", name)
		}
	}
}

func runCase(t *testing.T, tc platformCase) {
	ctx := context.Background()
	sim, err := platforms.Simulator(tc.name)
	if err != nil {
		t.Fatal(err)
	}
	placer := platformsim.OrderPlacer(sim) // every Simulator places orders
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	st, err := sim.NewStore(tc.store, 60_000) // a high limit: this test is about orders, not pacing
	if err != nil {
		t.Fatal(err)
	}
	secrets := &memSecrets{data: map[string]map[string]string{"ref": st.Secrets}}
	conn := domain.Connection{ID: "c1", Tenant: "t1", Platform: tc.name, Enabled: true,
		Settings: st.Settings, SecretRef: "ref", Currency: "BRL"}
	c := platforms.Connectors(secrets, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))[tc.name]
	p, err := sim.NewProduct(tc.store, "SKU-1", 10, decimal.RequireFromString("25.50"))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)
	order := platformsim.SimOrder{
		Lines: []platformsim.SimOrderLine{{Product: p, SKU: "SKU-1", Quantity: 3, UnitPrice: decimal.RequireFromString("25.50")}},
		Customer: platformsim.SimCustomer{Name: "Ana Souza", Email: "ana@example.com", Document: "39053344705",
			Phone: "11987654321", Street: "Rua Harmonia", Number: "1020", City: "São Paulo", State: "SP", PostalCode: "05435000"},
		Status:    tc.first,
		UpdatedAt: t0,
	}
	id, d, err := placer.PlaceOrder(tc.store, order)
	if err != nil {
		t.Fatalf("PlaceOrder: %v", err)
	}
	first := receive(ctx, t, c, conn, tc, id, d)
	checkOrder(t, first, id, order)
	if n, ok := sim.Stock(tc.store, p); !ok || n != 7 {
		t.Errorf("stock after sale = %d (%v), want 7", n, ok)
	}

	order.ID, order.Status, order.UpdatedAt = id, tc.updated, t0.Add(time.Hour)
	id2, d2, err := placer.PlaceOrder(tc.store, order)
	if err != nil || id2 != id {
		t.Fatalf("second PlaceOrder = %q, %v; want %q", id2, err, id)
	}
	second := receive(ctx, t, c, conn, tc, id, d2)
	if second.PlatformStatus != tc.updated {
		t.Errorf("status after update = %q, want %q", second.PlatformStatus, tc.updated)
	}
	if !second.PlacedAt.Equal(first.PlacedAt) {
		t.Errorf("PlacedAt moved from %v to %v on an update", first.PlacedAt, second.PlacedAt)
	}
	if !second.UpdatedAt.After(first.UpdatedAt) {
		t.Errorf("UpdatedAt %v is not after %v", second.UpdatedAt, first.UpdatedAt)
	}
	if n, _ := sim.Stock(tc.store, p); n != 7 {
		t.Errorf("stock after re-placing the same lines = %d, want 7", n)
	}

	if err := c.WriteOrderStatus(ctx, conn, id, domain.OrderStatusUpdate{PlatformStatus: tc.write, At: t0.Add(2 * time.Hour)}); err != nil {
		t.Fatalf("WriteOrderStatus: %v", err)
	}
	if got, ok := placer.OrderStatus(tc.store, id); !ok || got != tc.shown {
		t.Errorf("OrderStatus after write-back = %q (%v), want %q", got, ok, tc.shown)
	}
}

// receive verifies the delivery (or polls, when the platform sends none) and returns the
// order as the hub's worker would see it.
func receive(ctx context.Context, t *testing.T, c platform.Connector, conn domain.Connection, tc platformCase, id string, d platformsim.Delivery) domain.Order {
	t.Helper()
	if tc.tamper == nil {
		if !d.IsZero() {
			t.Errorf("%s sends no order webhook, got a delivery", tc.name)
		}
		return poll(ctx, t, c, conn, id)
	}
	req := func(d platformsim.Delivery) platform.WebhookRequest {
		return platform.WebhookRequest{Header: d.Header, Query: d.Query, Body: d.Body}
	}
	if _, err := c.VerifyWebhook(ctx, conn, req(tc.tamper(d))); err == nil {
		t.Errorf("tampered delivery accepted")
	}
	ev, err := c.VerifyWebhook(ctx, conn, req(d))
	if err != nil {
		t.Fatalf("VerifyWebhook: %v", err)
	}
	if ev.ResourceID != id {
		t.Errorf("event names order %q, want %q", ev.ResourceID, id)
	}
	o, err := c.FetchOrder(ctx, conn, id)
	if err != nil {
		t.Fatalf("FetchOrder: %v", err)
	}
	if ev.Order != nil {
		// The order in the event and the one the API serves must agree.
		if ev.Order.PlatformStatus != o.PlatformStatus || !ev.Order.UpdatedAt.Equal(o.UpdatedAt) || len(ev.Order.Lines) != len(o.Lines) {
			t.Errorf("event order (status %q, updated %v, %d lines) differs from FetchOrder (status %q, updated %v, %d lines)",
				ev.Order.PlatformStatus, ev.Order.UpdatedAt, len(ev.Order.Lines), o.PlatformStatus, o.UpdatedAt, len(o.Lines))
		}
		return *ev.Order
	}
	return o
}

// poll reads every page from the start and returns the newest copy of order id.
func poll(ctx context.Context, t *testing.T, c platform.Connector, conn domain.Connection, id string) domain.Order {
	t.Helper()
	p, ok := c.(platform.OrderPoller)
	if !ok {
		t.Fatalf("connector neither gets a webhook nor polls")
	}
	var found *domain.Order
	cursor := ""
	for range 100 {
		page, err := p.PollOrders(ctx, conn, cursor)
		if err != nil {
			t.Fatalf("PollOrders: %v", err)
		}
		for i := range page.Orders {
			if page.Orders[i].PlatformID == id {
				found = &page.Orders[i]
			}
		}
		cursor = page.Next
		if !page.More {
			break
		}
	}
	if found == nil {
		t.Fatalf("order %s not in PollOrders", id)
	}
	return *found
}

func checkOrder(t *testing.T, got domain.Order, id string, want platformsim.SimOrder) {
	t.Helper()
	if got.PlatformID != id || got.PlatformStatus == "" {
		t.Errorf("order id %q status %q, want id %q and a status", got.PlatformID, got.PlatformStatus, id)
	}
	if len(got.Lines) != len(want.Lines) {
		t.Fatalf("lines %+v, want %d", got.Lines, len(want.Lines))
	}
	for i, w := range want.Lines {
		g := got.Lines[i]
		if g.SKU != w.SKU || g.ProductID != w.Product.ProductID || g.VariantID != w.Product.VariantID ||
			g.Quantity != w.Quantity || !g.UnitPrice.Amount.Equal(w.UnitPrice) {
			t.Errorf("line %d = %+v, want %+v", i, g, w)
		}
	}
	cu := got.Customer
	if cu.Name != want.Customer.Name || cu.Email != want.Customer.Email || cu.Document != want.Customer.Document {
		t.Errorf("customer %+v, want %+v", cu, want.Customer)
	}
	if s := got.Shipping; s == nil || s.City != want.Customer.City || s.PostalCode != want.Customer.PostalCode || s.Street != want.Customer.Street {
		t.Errorf("shipping %+v, want the customer's address", s)
	}
	if got.UpdatedAt.IsZero() {
		t.Errorf("order has no UpdatedAt")
	}
}
