package nuvemshop

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/nuvemshop/nuvemshopsim"
)

func TestWriteOrderStatus(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]string
		u        domain.OrderStatusUpdate
		want     nuvemshopsim.OrderState
		wantErr  string
	}{
		{name: "fulfil with tracking", u: domain.OrderStatusUpdate{PlatformStatus: "fulfilled", TrackingCode: "BR123456789BR", TrackingURL: "https://rastreio.example/BR123456789BR"},
			want: nuvemshopsim.OrderState{Status: "open", ShippingStatus: "shipped", TrackingNumber: "BR123456789BR", TrackingURL: "https://rastreio.example/BR123456789BR", NotifyCustomer: ptr(true)}},
		{name: "tracking code alone fulfils, quietly", settings: map[string]string{"notify_customer": "false"}, u: domain.OrderStatusUpdate{TrackingCode: "XY1"},
			want: nuvemshopsim.OrderState{Status: "open", ShippingStatus: "shipped", TrackingNumber: "XY1", NotifyCustomer: ptr(false)}},
		{name: "pack", u: domain.OrderStatusUpdate{PlatformStatus: "packed"}, want: nuvemshopsim.OrderState{Status: "open", ShippingStatus: "packed"}},
		{name: "close", u: domain.OrderStatusUpdate{PlatformStatus: "Closed"}, want: nuvemshopsim.OrderState{Status: "closed", ShippingStatus: "unpacked"}},
		{name: "cancel", settings: map[string]string{"cancel_reason": "inventory", "cancel_restock": "false"}, u: domain.OrderStatusUpdate{PlatformStatus: "cancelled"},
			want: nuvemshopsim.OrderState{Status: "cancelled", ShippingStatus: "unpacked", CancelReason: "inventory", NotifyCustomer: ptr(true), Restock: ptr(false)}},
		{name: "invoiced", u: domain.OrderStatusUpdate{PlatformStatus: "invoiced", InvoiceNumber: "1203", InvoiceKey: "3525 1112 3456 7800 0195 5500 1000 0012 0310 0000 1234", InvoiceURL: "https://nfe.example/1203"},
			want: nuvemshopsim.OrderState{Status: "open", ShippingStatus: "unpacked", NFe: []nuvemshopsim.NFe{{Key: "35251112345678000195550010000012031000001234", Link: "https://nfe.example/1203"}}}},
		{name: "shipped with its invoice", u: domain.OrderStatusUpdate{PlatformStatus: "shipped", TrackingCode: "BR1", InvoiceKey: "35251112345678000195550010000120310000001234"},
			want: nuvemshopsim.OrderState{Status: "open", ShippingStatus: "shipped", TrackingNumber: "BR1", NotifyCustomer: ptr(true), NFe: []nuvemshopsim.NFe{{Key: "35251112345678000195550010000120310000001234"}}}},
		{name: "invoiced without key or url", u: domain.OrderStatusUpdate{PlatformStatus: "invoiced", InvoiceNumber: "1203"}, wantErr: "without an invoice key or URL"},
		{name: "invoice key not digits", u: domain.OrderStatusUpdate{PlatformStatus: "invoiced", InvoiceKey: "NFE-1203"}, wantErr: "not digits"},
		{name: "unknown status", u: domain.OrderStatusUpdate{PlatformStatus: "lost in space", InvoiceKey: "1"}, wantErr: "cannot be written"},
		{name: "bad cancel reason setting", settings: map[string]string{"cancel_reason": "boredom"}, u: domain.OrderStatusUpdate{PlatformStatus: "cancelled"}, wantErr: "cancel_reason"},
	}
	payload, err := os.ReadFile(filepath.Join("testdata", "order.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nuvemshopsim.Options{}, tt.settings)
			if err := e.sim.AddOrder(testStore, payload); err != nil {
				t.Fatal(err)
			}
			err := e.c.WriteOrderStatus(context.Background(), e.conn, "1467083201", tt.u)
			if tt.wantErr != "" {
				if err == nil || kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want permanent %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := e.sim.Order(testStore, "1467083201")
			if !sameState(got, tt.want) {
				t.Fatalf("order state %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("refused writes write no invoice", func(t *testing.T) {
		e := newEnv(t, nuvemshopsim.Options{}, nil)
		if err := e.sim.AddOrder(testStore, payload); err != nil {
			t.Fatal(err)
		}
		_ = e.c.WriteOrderStatus(context.Background(), e.conn, "1467083201", domain.OrderStatusUpdate{PlatformStatus: "lost", InvoiceKey: "1"})
		if m := e.sim.Metafields(testStore); len(m) != 0 {
			t.Fatalf("an invalid status wrote metafields %+v", m)
		}
	})
	t.Run("invoices accumulate once each", func(t *testing.T) {
		e := newEnv(t, nuvemshopsim.Options{}, nil)
		if err := e.sim.AddOrder(testStore, payload); err != nil {
			t.Fatal(err)
		}
		write := func(key string) {
			t.Helper()
			if err := e.c.WriteOrderStatus(context.Background(), e.conn, "1467083201", domain.OrderStatusUpdate{PlatformStatus: "invoiced", InvoiceKey: key}); err != nil {
				t.Fatal(err)
			}
		}
		write("111")
		write("111") // a retry: already there, nothing sent
		write("222") // a second invoice (a split shipment) joins the list
		got, _ := e.sim.Order(testStore, "1467083201")
		if len(got.NFe) != 2 || got.NFe[0].Key != "111" || got.NFe[1].Key != "222" {
			t.Fatalf("nfe list %+v", got.NFe)
		}
		c := e.calls().ByEndpoint
		if c[nuvemshopsim.EpMetafieldPo] != 1 || c[nuvemshopsim.EpMetafieldPu] != 1 || c[nuvemshopsim.EpMetafields] != 3 {
			t.Fatalf("calls %v: want one POST, one PUT, three lookups", c)
		}
		if m := e.sim.Metafields(testStore); len(m) != 1 || m[0].Namespace != "nfe" || m[0].Key != "list" || m[0].OwnerResource != "Order" || m[0].Description != "Lista de NFes" {
			t.Fatalf("metafields %+v", m)
		}
	})
	t.Run("invoice for a missing order", func(t *testing.T) {
		e := newEnv(t, nuvemshopsim.Options{}, nil)
		err := e.c.WriteOrderStatus(context.Background(), e.conn, "42", domain.OrderStatusUpdate{PlatformStatus: "invoiced", InvoiceKey: "1"})
		if kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "order 42 not found") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("missing order", func(t *testing.T) {
		e := newEnv(t, nuvemshopsim.Options{}, nil)
		err := e.c.WriteOrderStatus(context.Background(), e.conn, "42", domain.OrderStatusUpdate{PlatformStatus: "closed"})
		if kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "order 42 not found") {
			t.Fatalf("got %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func sameState(a, b nuvemshopsim.OrderState) bool {
	eq := func(x, y *bool) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return slices.Equal(a.NFe, b.NFe) && a.Status == b.Status && a.ShippingStatus == b.ShippingStatus && a.CancelReason == b.CancelReason &&
		a.TrackingNumber == b.TrackingNumber && a.TrackingURL == b.TrackingURL && eq(a.NotifyCustomer, b.NotifyCustomer) && eq(a.Restock, b.Restock)
}
