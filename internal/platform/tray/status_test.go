package tray

import (
	"context"
	"slices"
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

func TestWriteInvoice(t *testing.T) {
	const key = "35251212345678000195550020000047111123456789" // series 002, number 4711
	at := time.Date(2025, 12, 1, 2, 0, 0, 0, time.UTC)         // still Nov 30 in São Paulo
	tests := []struct {
		name     string
		settings map[string]string
		update   domain.OrderStatusUpdate
		want     []traysim.Invoice
		kind     *platform.Kind
	}{
		{name: "key, number and link", update: domain.OrderStatusUpdate{PlatformStatus: "ENVIADO", InvoiceNumber: "4711", InvoiceKey: key, InvoiceURL: "https://nfe.example/4711", At: at},
			want: []traysim.Invoice{{ID: "1", OrderID: "48213", IssueDate: "2025-11-30", Number: "4711", Serie: "2", Value: "321.63", Key: key, Link: "https://nfe.example/4711"}}},
		{name: "key only", update: domain.OrderStatusUpdate{InvoiceKey: key, At: at},
			want: []traysim.Invoice{{ID: "1", OrderID: "48213", IssueDate: "2025-11-30", Number: "4711", Serie: "2", Value: "321.63", Key: key}}},
		{name: "number only takes the invoice_serie setting", settings: map[string]string{"invoice_serie": "7"}, update: domain.OrderStatusUpdate{InvoiceNumber: "88", At: at},
			want: []traysim.Invoice{{ID: "1", OrderID: "48213", IssueDate: "2025-11-30", Number: "88", Serie: "7", Value: "321.63"}}},
		{name: "key of the wrong length", update: domain.OrderStatusUpdate{InvoiceKey: "1234"}, kind: ptr(platform.Permanent)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, traysim.Options{}, tt.settings)
			if err := e.sim.AddOrder(testStore, []byte(`{"Order":{"id":"48213","total":"321.63","status":"A ENVIAR","OrderStatus":{"id":"1","status":"A ENVIAR"}}}`)); err != nil {
				t.Fatal(err)
			}
			// Written twice, as a retried write-back would be: one invoice on Tray.
			for range 2 {
				err := e.c.WriteOrderStatus(context.Background(), e.conn, "48213", tt.update)
				if tt.kind != nil {
					if kindOf(err) != *tt.kind {
						t.Fatalf("got %v, want %v", err, *tt.kind)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := e.sim.Invoices(testStore, "48213"); !slices.Equal(got, tt.want) {
				t.Fatalf("invoices %+v, want %+v", got, tt.want)
			}
			if n := e.endpoint(traysim.EpInvoicePost); n != int64(len(tt.want)) {
				t.Fatalf("POST invoices %d times", n)
			}
			if tt.update.PlatformStatus != "" {
				if st, _ := e.sim.Order(testStore, "48213"); st.Status != "ENVIADO" {
					t.Fatalf("status %+v", st)
				}
			}
		})
	}
}
