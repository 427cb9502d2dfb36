package shopify

import (
	"context"
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/shopify/shopifysim"
)

func TestWriteOrderStatus(t *testing.T) {
	const gid = "gid://shopify/Order/5813404221603"
	tests := []struct {
		name    string
		updates []domain.OrderStatusUpdate
		check   func(t *testing.T, s shopifysim.OrderState)
		kind    platform.Kind
		wantErr string
		pending bool // the order is unpaid
	}{
		{name: "shipped with tracking", updates: []domain.OrderStatusUpdate{{PlatformStatus: "shipped", TrackingCode: "QB123456789BR", TrackingURL: "https://rastreamento.correios.com.br/?objeto=QB123456789BR", Carrier: "Correios"}},
			check: func(t *testing.T, s shopifysim.OrderState) {
				if s.FulfillmentStatus != "FULFILLED" || len(s.Tracking) != 1 || s.Tracking[0]["number"] != "QB123456789BR" || s.Tracking[0]["company"] != "Correios" {
					t.Fatalf("state %+v", s)
				}
			}},
		{name: "tracking without status fulfils; a second write is a no-op", updates: []domain.OrderStatusUpdate{{TrackingCode: "X1"}, {TrackingCode: "X1"}},
			check: func(t *testing.T, s shopifysim.OrderState) {
				if s.FulfillmentStatus != "FULFILLED" || len(s.Tracking) != 1 {
					t.Fatalf("state %+v", s)
				}
			}},
		{name: "cancelled", updates: []domain.OrderStatusUpdate{{PlatformStatus: "cancelled"}},
			check: func(t *testing.T, s shopifysim.OrderState) {
				if !s.Cancelled {
					t.Fatalf("state %+v", s)
				}
			}},
		{name: "cancelled twice names Shopify's error", updates: []domain.OrderStatusUpdate{{PlatformStatus: "cancelled"}, {PlatformStatus: "canceled"}},
			kind: platform.Permanent, wantErr: "already been cancelled"},
		{name: "paid and closed", pending: true, updates: []domain.OrderStatusUpdate{{PlatformStatus: "paid"}, {PlatformStatus: "closed"}},
			check: func(t *testing.T, s shopifysim.OrderState) {
				if s.FinancialStatus != "PAID" || !s.Closed {
					t.Fatalf("state %+v", s)
				}
			}},
		{name: "invoice data as metafields", updates: []domain.OrderStatusUpdate{{InvoiceNumber: "1234", InvoiceKey: "35260312345678000199550010000012341000012345", InvoiceURL: "https://nfe.example/1234"}},
			check: func(t *testing.T, s shopifysim.OrderState) {
				if s.Metafields["ponte.invoice_number"] != "1234" || s.Metafields["ponte.invoice_url"] != "https://nfe.example/1234" || len(s.Metafields) != 3 {
					t.Fatalf("metafields %+v", s.Metafields)
				}
			}},
		{name: "unknown status", updates: []domain.OrderStatusUpdate{{PlatformStatus: "teleported"}}, kind: platform.Permanent, wantErr: "cannot be written"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, nil)
			order := readFile(t, "order_graphql.json")
			if tt.pending {
				order = []byte(strings.Replace(string(order), `"displayFinancialStatus": "PAID"`, `"displayFinancialStatus": "PENDING"`, 1))
			}
			if err := e.sim.AddOrder(testShop, order); err != nil {
				t.Fatal(err)
			}
			var err error
			for _, u := range tt.updates {
				if err = e.c.WriteOrderStatus(context.Background(), e.conn, "5813404221603", u); err != nil {
					break
				}
			}
			if tt.wantErr != "" {
				if err == nil || kindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want %v with %q", err, tt.kind, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s, _ := e.sim.Order(testShop, gid)
			tt.check(t, s)
		})
	}
	t.Run("unknown order", func(t *testing.T) {
		e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, nil)
		for _, st := range []string{"shipped", "paid"} {
			err := e.c.WriteOrderStatus(context.Background(), e.conn, "42", domain.OrderStatusUpdate{PlatformStatus: st})
			if kindOf(err) != platform.Permanent {
				t.Fatalf("%s: %v", st, err)
			}
		}
	})
}
