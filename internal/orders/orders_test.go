package orders

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestSameDeliveryFiftyTimesConcurrentlyMakesOneOrderAndOneReservation(t *testing.T) {
	h := newHarness(t, domain.Rules{})
	o := order("1001", "paid", t0, line("P-A", "", 3))
	var wg sync.WaitGroup
	dups := 0
	var mu sync.Mutex
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := h.deliver(o)
			mu.Lock()
			defer mu.Unlock()
			if r.Duplicate {
				dups++
			}
		}()
	}
	wg.Wait()
	if dups != 49 {
		t.Fatalf("duplicates = %d, want 49", dups)
	}
	h.drain()
	// A second wave of deliveries processed concurrently by several workers.
	var wg2 sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			_, err := h.svc.apply(ctx(t), h.conn, o, nil)
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg2.Wait()
	list, _, err := h.st.ListOrders(ctx(t), "t1", store.OrderFilter{}, "", 100)
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("orders = %d, want 1", len(list))
	}
	a := h.sku("A")
	if len(a.Reservations) != 1 || a.ReservedQuantity() != 3 {
		t.Fatalf("reservations = %+v, want one of 3", a.Reservations)
	}
	if got := h.events.types(); !slices.Equal(got, []string{EventAccepted}) {
		t.Fatalf("events = %v, want one order.accepted", got)
	}
}

func TestShuffledDeliveriesEndInTheNewestState(t *testing.T) {
	versions := []domain.Order{
		order("2001", "pending", t0, line("P-A", "", 2)),
		order("2001", "paid", t0.Add(time.Minute), line("P-A", "", 2)),
		order("2001", "shipped", t0.Add(2*time.Minute), line("P-A", "", 2)),
	}
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			h := newHarness(t, domain.Rules{StatusMap: domain.StatusMap{Import: []string{"paid", "shipped"}, Reserve: []string{"pending"}}})
			r := rand.New(rand.NewPCG(seed, 7))
			perm := r.Perm(len(versions))
			for _, i := range perm {
				h.deliver(versions[i])
				h.drain()
			}
			rec := h.record("2001")
			if rec.State != domain.OrderAccepted || rec.PlatformStatus != "shipped" {
				t.Fatalf("order %v: state %s status %s, want accepted/shipped", perm, rec.State, rec.PlatformStatus)
			}
			if got := h.sku("A").ReservedQuantity(); got != 2 {
				t.Fatalf("reserved %d, want 2", got)
			}
			if n := slices.Index(h.events.types(), EventAccepted); n < 0 {
				t.Fatalf("no order.accepted event: %v", h.events.types())
			}
		})
	}
}

func TestLaterCancelReleasesAndOlderDeliveryNeverUndoesIt(t *testing.T) {
	h := newHarness(t, domain.Rules{})
	h.deliver(order("3001", "paid", t0, line("P-A", "", 4)))
	h.drain()
	if got := h.sku("A").ReservedQuantity(); got != 4 {
		t.Fatalf("reserved %d, want 4", got)
	}
	h.deliver(order("3001", "cancelled", t0.Add(time.Minute), line("P-A", "", 4)))
	h.drain()
	h.deliver(order("3001", "paid", t0.Add(30*time.Second), line("P-A", "", 4))) // late, older
	h.drain()
	rec := h.record("3001")
	if rec.State != domain.OrderCancelled {
		t.Fatalf("state %s, want cancelled", rec.State)
	}
	if got := h.sku("A").ReservedQuantity(); got != 0 {
		t.Fatalf("reserved %d after cancel, want 0", got)
	}
}

func TestRejectedOrderKeepsItsCustomerAndReasons(t *testing.T) {
	tests := []struct {
		name  string
		rules domain.Rules
		o     domain.Order
		codes []string
	}{
		{"unmapped line", domain.Rules{}, order("4001", "paid", t0, domain.OrderLine{ProductID: "P-X", Name: "Mystery", Quantity: 1}),
			[]string{domain.RejectUnmappedSKU}},
		{"unknown product", domain.Rules{}, order("4002", "paid", t0, line("", "ZZZ", 1)), []string{domain.RejectUnknownProduct}},
		{"no stock without backorders", domain.Rules{}, order("4003", "paid", t0, line("", "B", 2)), []string{domain.RejectNoStock}},
		{"status set to reject", domain.Rules{StatusMap: domain.StatusMap{Reject: []string{"fraud"}}}, order("4004", "fraud", t0, line("P-A", "", 1)),
			[]string{domain.RejectStatusRejected}},
		{"missing address", domain.Rules{}, func() domain.Order { o := order("4005", "paid", t0, line("P-A", "", 1)); o.Shipping = nil; return o }(),
			[]string{domain.RejectMissingAddress}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.rules)
			h.deliver(tc.o)
			h.drain()
			rec := h.record(tc.o.PlatformID)
			if rec.State != domain.OrderRejected {
				t.Fatalf("state %s, want rejected", rec.State)
			}
			var codes []string
			for _, r := range rec.Rejections {
				codes = append(codes, r.Code)
				if r.Message == "" {
					t.Errorf("rejection %s has no message", r.Code)
				}
			}
			if !slices.Equal(codes, tc.codes) {
				t.Fatalf("codes %v, want %v (%+v)", codes, tc.codes, rec.Rejections)
			}
			cs, err := h.st.GetCustomers(ctx(t), "t1", []string{rec.CustomerID})
			must(t, err)
			if c, ok := cs[rec.CustomerID]; !ok || c.Customer.Name != "Ana Souza" || (tc.o.Shipping != nil) != (c.Customer.Address != nil) {
				t.Fatalf("customer %q not stored with its address: %+v", rec.CustomerID, cs)
			}
			if got := h.sku("A").ReservedQuantity() + h.sku("B").ReservedQuantity(); got != 0 {
				t.Fatalf("a rejected order reserved %d", got)
			}
			if !slices.Contains(h.events.types(), EventRejected) {
				t.Fatalf("no order.rejected event: %v", h.events.types())
			}
		})
	}
}

func TestWaitingOrderImportsWhenItsStatusDoes(t *testing.T) {
	h := newHarness(t, domain.Rules{StatusMap: domain.StatusMap{Import: []string{"paid"}}, DefaultPaymentTerms: "30/60"})
	h.deliver(order("5001", "awaiting payment", t0, line("P-A", "", 1)))
	h.drain()
	if rec := h.record("5001"); rec.State != domain.OrderWaiting || rec.Rejections[0].Code != domain.RejectStatusNotImportable {
		t.Fatalf("got %s %+v, want waiting with status_not_importable", rec.State, rec.Rejections)
	}
	if got := h.sku("A").ReservedQuantity(); got != 0 {
		t.Fatalf("waiting order reserved %d", got)
	}
	h.deliver(order("5001", "paid", t0.Add(time.Minute), line("P-A", "", 1)))
	h.drain()
	if rec := h.record("5001"); rec.State != domain.OrderAccepted || rec.ERP.State != domain.ERPPending || rec.PaymentTerms != "30/60" {
		t.Fatalf("got %s/%s terms %q, want accepted/pending with the default terms", rec.State, rec.ERP.State, rec.PaymentTerms)
	}
}

func TestBackorderGoesToPurchaseNeeds(t *testing.T) {
	h := newHarness(t, domain.Rules{AllowBackorders: true})
	h.deliver(order("6001", "paid", t0, line("", "B", 2), line("P-A", "", 12)))
	h.drain()
	rec := h.record("6001")
	if rec.State != domain.OrderAccepted {
		t.Fatalf("state %s %+v", rec.State, rec.Rejections)
	}
	needs, err := h.svc.PurchaseNeeds(ctx(t), "t1", "")
	must(t, err)
	want := map[string]int64{"S1/A": 2, "S2/B": 2}
	got := map[string]int64{}
	for _, n := range needs {
		got[n.Supplier+"/"+n.SKU] = n.Quantity
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("needs %v, want %v", got, want)
	}
	// Cancelling the order drops its needs.
	h.deliver(order("6001", "cancelled", t0.Add(time.Minute), line("", "B", 2), line("P-A", "", 12)))
	h.drain()
	needs, err = h.svc.PurchaseNeeds(ctx(t), "t1", "S1")
	must(t, err)
	if len(needs) != 0 {
		t.Fatalf("needs after cancel: %+v", needs)
	}
}

func TestCrashBetweenStoringAndQueueingIsSwept(t *testing.T) {
	h := newHarness(t, domain.Rules{})
	h.svc.Queue = failingSender{}
	r := h.deliver(order("7001", "paid", t0, line("P-A", "", 1)))
	if r.Duplicate {
		t.Fatal("first delivery reported duplicate")
	}
	h.svc.Queue = h.orders
	h.drain() // nothing queued
	if _, err := h.st.GetOrder(ctx(t), "t1", domain.OrderID("c1", "7001")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("order exists before the sweep: %v", err)
	}
	h.svc.SweepAge = time.Nanosecond
	n, err := h.svc.Sweep(ctx(t))
	must(t, err)
	if n != 1 {
		t.Fatalf("swept %d, want 1", n)
	}
	h.drain()
	if rec := h.record("7001"); rec.State != domain.OrderAccepted {
		t.Fatalf("state %s", rec.State)
	}
	if n, _ := h.svc.Sweep(ctx(t)); n != 0 {
		t.Fatalf("second sweep re-queued %d processed deliveries", n)
	}
}

func TestThinWebhookFetchesTheOrder(t *testing.T) {
	h := newHarness(t, domain.Rules{})
	h.plat.orders["8001"] = order("8001", "paid", t0, line("P-A", "", 1))
	_, err := h.svc.Receive(ctx(t), "testplat", "c1", h.delivery(map[string]any{"id": "8001"}))
	must(t, err)
	h.drain()
	if rec := h.record("8001"); rec.State != domain.OrderAccepted || rec.Order.Number != "#8001" {
		t.Fatalf("got %+v", rec)
	}
}

func TestIntakeRefusals(t *testing.T) {
	h := newHarness(t, domain.Rules{})
	good := h.delivery(map[string]any{"id": "9001"})
	bad := good
	bad.Body = append([]byte(nil), good.Body...)
	bad.Body[2] ^= 1
	tests := []struct {
		name     string
		platform string
		conn     string
		req      func() (r any)
		want     error
	}{
		{"unknown connection", "testplat", "nope", nil, ErrUnknownConnection},
		{"platform mismatch", "tray", "c1", nil, ErrUnknownConnection},
		{"tampered body", "testplat", "c1", nil, ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := good
			if tc.want == ErrBadSignature {
				req = bad
			}
			_, err := h.svc.Receive(ctx(t), tc.platform, tc.conn, req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
	if ds, err := h.st.ListUnprocessedDeliveries(ctx(t), time.Now().Add(time.Hour), 10); err != nil || len(ds) != 0 {
		t.Fatalf("refused deliveries were stored: %v %v", ds, err)
	}
}
