package orders

import (
	"errors"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/store"
	"github.com/ponte-hub/ponte/internal/worker"
)

func acceptedOrder(t *testing.T, h *harness, id string, qty int64) domain.OrderRecord {
	t.Helper()
	h.deliver(order(id, "paid", t0, line("P-A", "", qty)))
	h.drain()
	rec := h.record(id)
	if rec.State != domain.OrderAccepted {
		t.Fatalf("state %s %+v", rec.State, rec.Rejections)
	}
	return rec
}

func TestAckTransitions(t *testing.T) {
	tests := []struct {
		name      string
		first     Ack
		second    *Ack
		wantState domain.OrderState
		wantERP   domain.ERPState
		reserved  int64 // after the answers
		wantErr   error
	}{
		{name: "registered keeps the reservation until the stock level", first: Ack{ERPOrderNumber: "E-1"},
			wantState: domain.OrderAccepted, wantERP: domain.ERPRegistered, reserved: 2},
		{name: "same number twice is harmless", first: Ack{ERPOrderNumber: "E-1"}, second: &Ack{ERPOrderNumber: "E-1"},
			wantState: domain.OrderAccepted, wantERP: domain.ERPRegistered, reserved: 2},
		{name: "another number is refused", first: Ack{ERPOrderNumber: "E-1"}, second: &Ack{ERPOrderNumber: "E-2"},
			wantState: domain.OrderAccepted, wantERP: domain.ERPRegistered, reserved: 2, wantErr: ErrTransition},
		{name: "refusal rejects and releases", first: Ack{Rejected: true, Reason: "customer blocked"},
			wantState: domain.OrderRejected, wantERP: domain.ERPRefused, reserved: 0},
		{name: "refusal after registration is refused", first: Ack{ERPOrderNumber: "E-1"}, second: &Ack{Rejected: true, Reason: "x"},
			wantState: domain.OrderAccepted, wantERP: domain.ERPRegistered, reserved: 2, wantErr: ErrTransition},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, domain.Rules{})
			rec := acceptedOrder(t, h, "A1", 2)
			_, err := h.svc.Ack(ctx(t), "t1", rec.ID, tc.first)
			must(t, err)
			if tc.second != nil {
				_, err = h.svc.Ack(ctx(t), "t1", rec.ID, *tc.second)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			got := h.record("A1")
			if got.State != tc.wantState || got.ERP.State != tc.wantERP {
				t.Fatalf("state %s/%s, want %s/%s", got.State, got.ERP.State, tc.wantState, tc.wantERP)
			}
			if r := h.sku("A").ReservedQuantity(); r != tc.reserved {
				t.Fatalf("reserved %d, want %d", r, tc.reserved)
			}
		})
	}
	h := newHarness(t, domain.Rules{})
	if _, err := h.svc.Ack(ctx(t), "t1", "ord_nope", Ack{ERPOrderNumber: "E"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown order: %v", err)
	}
}

func TestRegisteredReservationEndsAfterTheGrace(t *testing.T) {
	h := newHarness(t, domain.Rules{})
	h.svc.AckGrace = time.Millisecond
	rec := acceptedOrder(t, h, "G1", 2)
	_, err := h.svc.Ack(ctx(t), "t1", rec.ID, Ack{ERPOrderNumber: "E-9"})
	must(t, err)
	time.Sleep(20 * time.Millisecond)
	h.drain() // the delayed release
	if r := h.sku("A").ReservedQuantity(); r != 0 {
		t.Fatalf("reserved %d after the grace, want 0", r)
	}
	if got := h.record("G1"); len(got.Reserved) != 0 {
		t.Fatalf("record still holds %v", got.Reserved)
	}
}

func TestApplyStatus(t *testing.T) {
	h := newHarness(t, domain.Rules{StatusMap: domain.StatusMap{WriteBack: map[string]string{"shipped": "sent"}}})
	rec := acceptedOrder(t, h, "S1", 1)
	shipped := domain.OrderStatusChange{OrderID: rec.ID, Status: domain.FulfilShipped, Version: 5,
		Update: domain.OrderStatusUpdate{TrackingCode: "QB1BR"}}
	errs := h.svc.ApplyStatus(ctx(t), "t1", []domain.OrderStatusChange{
		shipped,
		{OrderID: rec.ID, Status: domain.FulfilInvoiced, Version: 4, Update: domain.OrderStatusUpdate{InvoiceNumber: "1"}},
		{OrderID: "ord_missing", Status: domain.FulfilShipped, Version: 1},
		shipped,
	})
	if errs[0] != nil || !errors.Is(errs[1], ErrStaleStatus) || !errors.Is(errs[2], store.ErrNotFound) || errs[3] != nil {
		t.Fatalf("errs %v", errs)
	}
	var rf interface{ RejectField() string }
	if !errors.As(errs[1], &rf) || rf.RejectField() != "version" {
		t.Fatalf("stale status names no field: %v", errs[1])
	}
	h.drain()
	got := h.record("S1")
	if got.ERP.State != domain.ERPRegistered {
		t.Fatalf("shipping did not register the order: %s", got.ERP.State)
	}
	if got.Fulfilment.WrittenStatus != "sent" || len(h.plat.written) != 1 || h.plat.written[0].TrackingCode != "QB1BR" {
		t.Fatalf("write-back %+v, platform got %+v", got.Fulfilment, h.plat.written)
	}
	// A cancel from the ERP releases the stock at once.
	errs = h.svc.ApplyStatus(ctx(t), "t1", []domain.OrderStatusChange{{OrderID: rec.ID, Status: domain.FulfilCancelled, Version: 6}})
	must(t, errs[0])
	if got := h.record("S1"); got.State != domain.OrderCancelled || h.sku("A").ReservedQuantity() != 0 {
		t.Fatalf("after cancel: %s, reserved %d", got.State, h.sku("A").ReservedQuantity())
	}
	// Rejected orders take no status.
	rej := order("S2", "paid", t0, line("", "ZZZ", 1))
	h.deliver(rej)
	h.drain()
	errs = h.svc.ApplyStatus(ctx(t), "t1", []domain.OrderStatusChange{{OrderID: domain.OrderID("c1", "S2"), Status: domain.FulfilShipped, Version: 1}})
	if !errors.Is(errs[0], ErrTransition) {
		t.Fatalf("status on a rejected order: %v", errs[0])
	}
}

func TestWriteBackFailureIsRecordedAndClassified(t *testing.T) {
	h := newHarness(t, domain.Rules{StatusMap: domain.StatusMap{Received: "em separação"}})
	h.plat.failW = &platform.Error{Platform: "testplat", Op: "write_order_status", Kind: platform.Permanent, StatusCode: 422, Message: "unknown status"}
	h.deliver(order("W1", "paid", t0, line("P-A", "", 1)))
	msgs := func() error {
		for {
			ms, err := h.orders.Receive(ctx(t), 10, 50*time.Millisecond)
			must(t, err)
			if len(ms) == 0 {
				return nil
			}
			for _, m := range ms {
				if err := h.svc.Handle(ctx(t), m); err != nil {
					return err
				}
				must(t, h.orders.Delete(ctx(t), m.Receipt))
			}
		}
	}
	err := msgs()
	var dead *worker.DeadError
	if !errors.As(err, &dead) {
		t.Fatalf("permanent write-back failure: %v, want dead-letter", err)
	}
	if got := h.record("W1"); got.Fulfilment.WriteError == "" {
		t.Fatalf("write error not recorded: %+v", got.Fulfilment)
	}
}
