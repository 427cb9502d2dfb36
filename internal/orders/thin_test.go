package orders

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/worker"
)

// setPlatformOrder changes the order as the platform holds it (what FetchOrder reads).
func (h *harness) setPlatformOrder(o domain.Order) {
	h.plat.mu.Lock()
	defer h.plat.mu.Unlock()
	h.plat.orders[o.PlatformID] = o
}

func (h *harness) fetches() int {
	h.plat.mu.Lock()
	defer h.plat.mu.Unlock()
	return h.plat.fetches
}

// notifyThin sends the id-only notification Tray sends for every change of an order:
// the same bytes each time.
func (h *harness) notifyThin(id string) Receipt {
	h.t.Helper()
	r, err := h.svc.Receive(ctx(h.t), "testplat", "c1", h.delivery(map[string]any{"id": id}))
	must(h.t, err)
	return r
}

// TestIdenticalThinNotificationsMoveTheOrder is issue 10's first defect: three identical
// bodies announce open → paid → cancelled, and the order follows each one.
func TestIdenticalThinNotificationsMoveTheOrder(t *testing.T) {
	h := newHarness(t, domain.Rules{StatusMap: domain.StatusMap{Import: []string{"paid"}, Reserve: []string{"open"}}})
	steps := []struct {
		status   string
		state    domain.OrderState
		reserved int64
	}{
		{"open", domain.OrderWaiting, 2},
		{"paid", domain.OrderAccepted, 2},
		{"cancelled", domain.OrderCancelled, 0},
	}
	for i, st := range steps {
		h.setPlatformOrder(order("7001", st.status, t0.Add(time.Duration(i)*time.Minute), line("P-A", "", 2)))
		if r := h.notifyThin("7001"); r.Duplicate {
			t.Fatalf("step %s: a thin notification answered duplicate", st.status)
		}
		h.drain()
		rec := h.record("7001")
		if rec.State != st.state || rec.PlatformStatus != st.status {
			t.Fatalf("after %q: state %s, platform status %q", st.status, rec.State, rec.PlatformStatus)
		}
		if got := h.sku("A").ReservedQuantity(); got != st.reserved {
			t.Fatalf("after %q: %d reserved, want %d", st.status, got, st.reserved)
		}
	}
	if got := h.fetches(); got != 3 {
		t.Fatalf("%d fetches for 3 notifications processed one by one, want 3", got)
	}
}

// TestThinNotificationsQueuedTogetherCostOneFetch: notifications that arrived before a
// read of the order began are answered by that read.
func TestThinNotificationsQueuedTogetherCostOneFetch(t *testing.T) {
	h := newHarness(t, domain.Rules{})
	var mu sync.Mutex
	now := t0
	h.svc.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h.setPlatformOrder(order("7002", "paid", t0, line("P-A", "", 1)))
	for range 3 {
		h.notifyThin("7002")
	}
	mu.Lock()
	now = now.Add(5 * time.Second) // the worker reads the order a few seconds later
	mu.Unlock()
	h.drain()
	if got := h.fetches(); got != 1 {
		t.Fatalf("%d fetches, want 1 (the later two notifications predate the read)", got)
	}
	if rec := h.record("7002"); rec.State != domain.OrderAccepted {
		t.Fatalf("state %s", rec.State)
	}
	// A notification after that read is fetched again: it may announce a new change.
	h.setPlatformOrder(order("7002", "cancelled", t0.Add(time.Minute), line("P-A", "", 1)))
	h.notifyThin("7002")
	mu.Lock()
	now = now.Add(5 * time.Second)
	mu.Unlock()
	h.drain()
	if got, rec := h.fetches(), h.record("7002"); got != 2 || rec.State != domain.OrderCancelled {
		t.Fatalf("%d fetches, state %s; want 2, cancelled", got, rec.State)
	}
}

// TestUnparsedDeliveryIsStoredAndReplayed: a verified body the parser cannot read is
// answered as stored, dead-lettered at once with the field that failed, and imported
// when handled again after the parser is fixed.
func TestUnparsedDeliveryIsStoredAndReplayed(t *testing.T) {
	h := newHarness(t, domain.Rules{})
	h.setPlatformOrder(order("7003", "paid", t0, line("P-A", "", 1)))
	req := h.delivery(map[string]any{"id": 7003})
	r, err := h.svc.Receive(ctx(t), "testplat", "c1", req)
	if err != nil || r.Unparsed == "" || r.DeliveryID == "" {
		t.Fatalf("receipt %+v, err %v: want stored with the parse error", r, err)
	}
	if !strings.Contains(r.Unparsed, "field id") {
		t.Fatalf("unparsed %q does not name the field", r.Unparsed)
	}
	// A platform retry of the same body is the same delivery.
	if again, err := h.svc.Receive(ctx(t), "testplat", "c1", req); err != nil || !again.Duplicate {
		t.Fatalf("repeat: %+v %v", again, err)
	}
	msgs, err := h.orders.Receive(ctx(t), 10, time.Second)
	must(t, err)
	if len(msgs) != 1 {
		t.Fatalf("%d messages queued, want 1", len(msgs))
	}
	herr := h.svc.Handle(ctx(t), msgs[0])
	var dead *worker.DeadError
	if !errors.As(herr, &dead) || !strings.Contains(herr.Error(), "field id") {
		t.Fatalf("handle: %v; want a dead letter naming the field", herr)
	}
	d, err := h.st.GetDelivery(ctx(t), "c1", r.DeliveryID)
	must(t, err)
	if d.ProcessedAt == nil || !strings.HasPrefix(d.Outcome, failedPrefix) || len(d.Body) == 0 {
		t.Fatalf("delivery after dead letter: %+v", d)
	}
	// The parser is fixed; the operator retries the dead letter (same message again).
	h.plat.mu.Lock()
	h.plat.lenientIDs = true
	h.plat.mu.Unlock()
	must(t, h.svc.Handle(ctx(t), msgs[0]))
	if rec := h.record("7003"); rec.State != domain.OrderAccepted {
		t.Fatalf("replayed order state %s", rec.State)
	}
}
