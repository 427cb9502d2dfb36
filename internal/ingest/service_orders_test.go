package ingest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
	storesqlite "github.com/ponte-hub/ponte/internal/store/sqlite"
)

// fieldErr stands in for the orders package's refusals (stale version, bad transition).
type fieldErr struct{ field, msg string }

func (e fieldErr) Error() string       { return e.msg }
func (e fieldErr) RejectField() string { return e.field }

// fakeApplier answers per order id from errs (nil when absent) and records what it got.
type fakeApplier struct {
	errs map[string]error
	got  []domain.OrderStatusChange
	// short drops the last answer (a broken applier).
	short bool
}

func (f *fakeApplier) ApplyStatus(_ context.Context, _ string, changes []domain.OrderStatusChange) []error {
	f.got = append(f.got, changes...)
	out := make([]error, len(changes))
	for i, c := range changes {
		out[i] = f.errs[c.OrderID]
	}
	if f.short {
		out = out[:len(out)-1]
	}
	return out
}

func TestApplyOrderStatuses(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	stale := fieldErr{"version", "version 3 is older than the applied order_status version 5; ignored"}
	transition := fieldErr{"status", "order cannot take that step now"}
	answers := map[string]error{
		"ord_gone":  fmt.Errorf("get order ord_gone: %w", store.ErrNotFound),
		"ord_stale": stale,
		"ord_step":  fmt.Errorf("%w: delivered before shipped", transition), // the detail travels with the sentinel
		"ord_down":  errors.New("dynamodb: throttled"),
	}
	status := func(id string, v int) string {
		return fmt.Sprintf(`{"type":"order_status","order_id":%q,"version":%d,"status":"delivered"}`, id, v)
	}
	stock := `{"type":"stock","sku":"A","version":%d,"quantity":%d}`
	type reject struct {
		index int
		field string
		msg   string
	}
	tests := []struct {
		name       string
		orders     bool
		short      bool
		items      []string
		wantErr    bool
		accepted   int
		rejected   []reject
		wantStock  int64 // stock of A after the batch (seeded at 1)
		appliedIDs []string
	}{
		{name: "applied and refused items beside a stock change", orders: true,
			items: []string{status("ord_ok", 2), fmt.Sprintf(stock, 2, 7), status("ord_gone", 1),
				status("ord_stale", 3), status("ord_step", 4)},
			accepted: 2, wantStock: 7,
			rejected:   []reject{{2, "order_id", "unknown order"}, {3, "version", stale.msg}, {4, "status", transition.msg + ": delivered before shipped"}},
			appliedIDs: []string{"ord_ok", "ord_gone", "ord_stale", "ord_step"}},
		{name: "orders not enabled keeps the stock change", orders: false,
			items:    []string{fmt.Sprintf(stock, 3, 8), status("ord_ok", 2)},
			accepted: 1, wantStock: 8, rejected: []reject{{1, "type", "orders are not enabled"}}},
		{name: "a store failure fails the batch", orders: true,
			items:   []string{fmt.Sprintf(stock, 4, 9), status("ord_down", 2)},
			wantErr: true, wantStock: 9, appliedIDs: []string{"ord_down"}},
		{name: "an applier answering short fails the batch", orders: true, short: true,
			items:   []string{status("ord_ok", 3), status("ord_ok", 4)},
			wantErr: true, wantStock: 1, appliedIDs: []string{"ord_ok", "ord_ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := storesqlite.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			svc := &Service{Store: st, Changes: &recordingSender{}, Now: func() time.Time { return now }}
			fake := &fakeApplier{errs: answers, short: tt.short}
			if tt.orders {
				svc.Orders = fake
			}
			seed := `{"changes":[{"type":"product","sku":"A","version":1,"name":"a"},` + fmt.Sprintf(stock, 1, 1) + `]}`
			if _, err := svc.Apply(ctx, "t1", decodeOrFail(t, seed)); err != nil {
				t.Fatal(err)
			}
			body := `{"changes":[`
			for i, it := range tt.items {
				if i > 0 {
					body += ","
				}
				body += it
			}
			res, err := svc.Apply(ctx, "t1", decodeOrFail(t, body+`]}`))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr {
				if res.Accepted != tt.accepted || len(res.Rejected) != len(tt.rejected) {
					t.Fatalf("result %+v, want accepted %d and %d rejected", res, tt.accepted, len(tt.rejected))
				}
				for i, w := range tt.rejected {
					r := res.Rejected[i]
					if r.Index != w.index || r.Field != w.field || r.Error != w.msg || r.OrderID == "" {
						t.Fatalf("rejection %d: %+v, want %+v with the order id", i, r, w)
					}
				}
			}
			var ids []string
			for _, c := range fake.got {
				ids = append(ids, c.OrderID)
				if !c.Update.At.Equal(now) || c.Status != domain.FulfilDelivered {
					t.Fatalf("applier got %+v, want status delivered at %v", c, now)
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.appliedIDs) {
				t.Fatalf("applier got %v, want %v in batch order", ids, tt.appliedIDs)
			}
			states, err := st.GetSKUs(ctx, "t1", []string{"A"})
			if err != nil {
				t.Fatal(err)
			}
			if q := states["A"].Stock[DefaultWarehouse].Quantity; q != tt.wantStock {
				t.Fatalf("stock of A is %d, want %d: the stock change in the batch was lost", q, tt.wantStock)
			}
		})
	}
}
