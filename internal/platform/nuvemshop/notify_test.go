package nuvemshop

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/nuvemshop/nuvemshopsim"
	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

// TestThinNotificationsFollowTheOrder: one order placed, then cancelled, then
// refunded: Nuvemshop posts the identical thin body for both updates, so nothing in
// the delivery tells them apart (no EventID); each fetch shows the order's new status
// and a later updated_at, which is what the hub de-duplicates on.
func TestThinNotificationsFollowTheOrder(t *testing.T) {
	k := nuvemshopsim.NewKit()
	if _, err := k.Start(":0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	st, err := k.NewStore("777", 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := k.NewProduct("777", "CAF-1", 10, decimal.RequireFromString("32.50"))
	if err != nil {
		t.Fatal(err)
	}
	conn := domain.Connection{ID: "c7", Tenant: "t", Platform: Name, Settings: st.Settings, SecretRef: "s7", Currency: "BRL"}
	c := New(&memSecrets{data: map[string]map[string]string{"s7": st.Secrets}}, Options{})
	at := time.Date(2025, 12, 2, 9, 0, 0, 0, time.UTC)
	order := platformsim.SimOrder{Status: "paid", UpdatedAt: at,
		Lines:    []platformsim.SimOrderLine{{Product: p, SKU: "CAF-1", Quantity: 2, UnitPrice: decimal.RequireFromString("32.50")}},
		Customer: platformsim.SimCustomer{Name: "Ana Lima", Email: "ana@example.invalid", Document: "12345678909", Street: "Rua A", Number: "1", City: "Recife", State: "PE", PostalCode: "50000-000"}}
	var id string
	var bodies [][]byte
	steps := []struct {
		act        func() (platformsim.Delivery, error)
		topic      string
		wantStatus string
	}{
		{func() (platformsim.Delivery, error) {
			var d platformsim.Delivery
			var err error
			id, d, err = k.PlaceOrder("777", order)
			return d, err
		}, "order/created", "paid"},
		{func() (platformsim.Delivery, error) {
			order.ID, order.Status, order.UpdatedAt = id, "cancelled", at.Add(time.Hour)
			_, d, err := k.PlaceOrder("777", order)
			return d, err
		}, "order/updated", "cancelled"},
		{func() (platformsim.Delivery, error) {
			return k.Server.UpdateOrder("777", id, map[string]any{"payment_status": "refunded"})
		}, "order/updated", "cancelled"},
	}
	var last time.Time
	for i, step := range steps {
		d, err := step.act()
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		bodies = append(bodies, d.Body)
		ev, err := c.VerifyWebhook(context.Background(), conn, platform.WebhookRequest{Header: d.Header, Query: d.Query, Body: d.Body})
		if err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
		if ev.Topic != step.topic || ev.ResourceID != id || ev.EventID != "" || ev.Order != nil {
			t.Fatalf("delivery %d: %+v", i, ev)
		}
		o, err := c.FetchOrder(context.Background(), conn, ev.ResourceID)
		if err != nil {
			t.Fatalf("fetch %d: %v", i, err)
		}
		if o.PlatformStatus != step.wantStatus || !o.UpdatedAt.After(last) {
			t.Fatalf("fetch %d: status %q updated_at %v (previous %v)", i, o.PlatformStatus, o.UpdatedAt, last)
		}
		if msg := o.CheckTotal(); msg != "" || !o.Total.Equal(domain.MustMoney("65.00", "BRL")) {
			t.Fatalf("fetch %d: total %v: %s", i, o.Total, msg)
		}
		last = o.UpdatedAt
	}
	if !bytes.Equal(bodies[1], bodies[2]) {
		t.Fatalf("order/updated bodies differ: %s vs %s", bodies[1], bodies[2])
	}
}
