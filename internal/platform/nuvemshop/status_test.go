package nuvemshop

import (
	"context"
	"os"
	"path/filepath"
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
		{name: "unknown status", u: domain.OrderStatusUpdate{PlatformStatus: "lost in space"}, wantErr: "cannot be written"},
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
	return a.Status == b.Status && a.ShippingStatus == b.ShippingStatus && a.CancelReason == b.CancelReason &&
		a.TrackingNumber == b.TrackingNumber && a.TrackingURL == b.TrackingURL && eq(a.NotifyCustomer, b.NotifyCustomer) && eq(a.Restock, b.Restock)
}
