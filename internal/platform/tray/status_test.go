package tray

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
)

func TestWriteOrderStatus(t *testing.T) {
	at := time.Date(2025, 12, 1, 2, 0, 0, 0, time.UTC) // still Nov 30 in São Paulo
	tests := []struct {
		name         string
		update       domain.OrderStatusUpdate
		want         traysim.OrderState
		wantStatuses int64
		wantCancel   int64
		wantKind     *platform.Kind
	}{
		{name: "numeric id", update: domain.OrderStatusUpdate{PlatformStatus: "3"},
			want: traysim.OrderState{StatusID: "3", Status: "ENVIADO"}},
		{name: "name with tracking", update: domain.OrderStatusUpdate{PlatformStatus: "enviado", TrackingCode: "BR123", TrackingURL: "https://rastreio/BR123", At: at},
			want:         traysim.OrderState{StatusID: "3", Status: "ENVIADO", SendingCode: "BR123", SendingDate: "2025-11-30", TrackingURL: "https://rastreio/BR123"},
			wantStatuses: 1},
		{name: "tracking only", update: domain.OrderStatusUpdate{TrackingCode: "BR9"},
			want: traysim.OrderState{StatusID: "1", Status: "A ENVIAR", SendingCode: "BR9"}},
		{name: "cancel by name", update: domain.OrderStatusUpdate{PlatformStatus: "Cancelado"},
			want: traysim.OrderState{StatusID: "5", Status: "CANCELADO"}, wantStatuses: 1, wantCancel: 1},
		{name: "unknown name", update: domain.OrderStatusUpdate{PlatformStatus: "EXTRAVIADO"},
			want: traysim.OrderState{StatusID: "1", Status: "A ENVIAR"}, wantStatuses: 1, wantKind: ptr(platform.Permanent)},
		{name: "unknown id", update: domain.OrderStatusUpdate{PlatformStatus: "77"},
			want: traysim.OrderState{StatusID: "1", Status: "A ENVIAR"}, wantKind: ptr(platform.Permanent)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, traysim.Options{}, nil)
			if err := e.sim.AddOrder(testStore, []byte(`{"Order":{"id":"48213","status":"A ENVIAR","OrderStatus":{"id":"1","status":"A ENVIAR"}}}`)); err != nil {
				t.Fatal(err)
			}
			err := e.c.WriteOrderStatus(context.Background(), e.conn, "48213", tt.update)
			if tt.wantKind != nil {
				if kindOf(err) != *tt.wantKind {
					t.Fatalf("got %v, want %v", err, *tt.wantKind)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			got, _ := e.sim.Order(testStore, "48213")
			if got != tt.want {
				t.Fatalf("order state %+v, want %+v", got, tt.want)
			}
			if s, c := e.endpoint(traysim.EpStatuses), e.endpoint(traysim.EpOrderCancel); s != tt.wantStatuses || c != tt.wantCancel {
				t.Fatalf("status lists %d cancels %d, want %d %d", s, c, tt.wantStatuses, tt.wantCancel)
			}
		})
	}
}

func TestWriteOrderStatusCachesStatuses(t *testing.T) {
	e := newEnv(t, traysim.Options{}, nil)
	_ = e.sim.AddOrder(testStore, []byte(`{"Order":{"id":"7","status":"A ENVIAR"}}`))
	for _, s := range []string{"ENVIADO", "FINALIZADO", "ENVIADO"} {
		if err := e.c.WriteOrderStatus(context.Background(), e.conn, "7", domain.OrderStatusUpdate{PlatformStatus: s}); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.endpoint(traysim.EpStatuses); n != 1 {
		t.Fatalf("status list fetched %d times, want 1", n)
	}
	// A status created after caching is found by one refetch.
	e.sim.AddStatus(testStore, "9", "RETIRADO NA LOJA")
	if err := e.c.WriteOrderStatus(context.Background(), e.conn, "7", domain.OrderStatusUpdate{PlatformStatus: "retirado na loja"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.sim.Order(testStore, "7"); got.StatusID != "9" {
		t.Fatalf("status %+v", got)
	}
	if err := e.c.WriteOrderStatus(context.Background(), e.conn, "404", domain.OrderStatusUpdate{PlatformStatus: "3"}); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("missing order: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }
