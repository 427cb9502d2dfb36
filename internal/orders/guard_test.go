package orders

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
)

// unsignedPlatform is the test platform as Tray is: it signs nothing.
type unsignedPlatform struct{ *testPlatform }

func (unsignedPlatform) UnsignedWebhooks() bool { return true }

// TestForgedFloodCostsAtMostTheCap is issue 12's forged Tray flood: 300 notifications of
// orders that do not exist take at most the connection's cap of platform reads, none of
// them becomes a failure, and the same ids posted again cost no read at all.
func TestForgedFloodCostsAtMostTheCap(t *testing.T) {
	h := newHarness(t, domain.Rules{})
	h.svc.Connectors["testplat"] = unsignedPlatform{h.plat}
	h.conn.Settings = map[string]string{SettingUnverifiedPerMinute: "50"}
	must(t, h.st.PutConnection(ctx(t), h.conn))
	now := t0
	h.svc.Now = func() time.Time { return now } // frozen: the bucket never refills
	stored, refused := 0, 0
	for i := range 300 {
		_, err := h.svc.Receive(ctx(t), "testplat", "c1", h.delivery(map[string]any{"id": "F" + strconv.Itoa(i)}))
		switch {
		case errors.Is(err, ErrTooManyUnverified):
			refused++
		case err != nil:
			t.Fatal(err)
		default:
			stored++
		}
	}
	if stored != 50 || refused != 250 {
		t.Fatalf("stored %d, refused %d; want 50 and 250", stored, refused)
	}
	h.drain() // fails the test on any dead letter
	if got := h.fetches(); got != 50 {
		t.Fatalf("%d platform reads, want 50", got)
	}
	now = now.Add(time.Hour) // the bucket is full again; the ids are remembered for 10 minutes only
	h.svc.Now = func() time.Time { return now.Add(-time.Hour + time.Minute) }
	for i := range 50 {
		r, err := h.svc.Receive(ctx(t), "testplat", "c1", h.delivery(map[string]any{"id": "F" + strconv.Itoa(i)}))
		if err != nil || !r.Ignored {
			t.Fatalf("known-missing id F%d: %+v %v; want ignored", i, r, err)
		}
	}
	if got := h.fetches(); got != 50 {
		t.Fatalf("%d platform reads after the repeats, want still 50", got)
	}
	// A real order of that store still comes in.
	h.setPlatformOrder(order("9501", "paid", t0, line("P-A", "", 1)))
	now = now.Add(time.Hour)
	h.svc.Now = func() time.Time { return now }
	if _, err := h.svc.Receive(ctx(t), "testplat", "c1", h.delivery(map[string]any{"id": "9501"})); err != nil {
		t.Fatal(err)
	}
	h.drain()
	if rec := h.record("9501"); rec.State != domain.OrderAccepted {
		t.Fatalf("real order state %s", rec.State)
	}
}

// TestSweeperLeavesQueuedDeliveriesAlone: a delivery still waiting in a busy orders queue
// is not queued a second time; once the queue is idle, an unprocessed one is.
func TestSweeperLeavesQueuedDeliveriesAlone(t *testing.T) {
	h := newHarness(t, domain.Rules{})
	h.svc.SweepAge = time.Nanosecond
	h.deliver(order("9601", "paid", t0, line("P-A", "", 1))) // queued, not yet handled
	time.Sleep(time.Millisecond)
	if n, err := h.svc.Sweep(ctx(t)); err != nil || n != 0 {
		t.Fatalf("swept %d (%v) while its message waits in the queue", n, err)
	}
	// The message is lost (taken and dropped): the queue is idle, the delivery unprocessed.
	msgs, err := h.orders.Receive(ctx(t), 10, time.Second)
	must(t, err)
	for _, m := range msgs {
		must(t, h.orders.Delete(ctx(t), m.Receipt))
	}
	if n, err := h.svc.Sweep(ctx(t)); err != nil || n != 1 {
		t.Fatalf("swept %d (%v) from an idle queue, want 1", n, err)
	}
	h.drain()
	if rec := h.record("9601"); rec.State != domain.OrderAccepted {
		t.Fatalf("state %s", rec.State)
	}
}
