package nuvemshop

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/nuvemshop/nuvemshopsim"
)

// clock is a frozen, settable clock shared by the simulator and the connector.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2025, 12, 1, 12, 0, 0, 0, time.UTC)

// pollEnv is an env whose simulator and connector share a frozen clock, with a
// connection created at t0.
func pollEnv(t *testing.T, settings map[string]string) (*env, *clock) {
	t.Helper()
	clk := &clock{t: t0.Add(time.Hour)}
	// The simulator's bucket drains on its frozen clock: make it deep enough.
	e := newEnv(t, nuvemshopsim.Options{Now: clk.now, Bucket: 100000}, settings)
	e.c = New(e.secrets, Options{Now: clk.now})
	e.conn.CreatedAt = t0
	return e, clk
}

// addOrder stores a minimal order updated at `at` with the given payment status.
func (e *env) addOrder(id int, at time.Time, payment string) {
	e.t.Helper()
	stamp := at.Format("2006-01-02T15:04:05-0700")
	body := fmt.Sprintf(`{"id":%d,"number":%d,"status":"open","payment_status":%q,"shipping_status":"unpacked","currency":"BRL",`+
		`"created_at":%q,"updated_at":%q,"subtotal":"10.00","discount":"0.00","shipping_cost_customer":"0.00","total":"10.00",`+
		`"products":[{"product_id":1,"variant_id":2,"sku":"S","price":"10.00","quantity":1}]}`, id, id, payment, stamp, stamp)
	if err := e.sim.AddOrder(testStore, []byte(body)); err != nil {
		e.t.Fatal(err)
	}
}

// drain polls until the poll says no more is ready, returning the orders (id ->
// updated_at seen last), the cursor and how many polls it took.
func (e *env) drain(cursor string) (map[string]time.Time, string, int) {
	e.t.Helper()
	seen := map[string]time.Time{}
	for n := 1; ; n++ {
		if n > 50 {
			e.t.Fatalf("poll does not settle; cursor %q", cursor)
		}
		p, err := e.c.PollOrders(context.Background(), e.conn, cursor)
		if err != nil {
			e.t.Fatalf("poll %d (cursor %q): %v", n, cursor, err)
		}
		for i, o := range p.Orders {
			if i > 0 && o.UpdatedAt.Before(p.Orders[i-1].UpdatedAt) {
				e.t.Fatalf("page not oldest first: %v", p.Orders)
			}
			seen[o.PlatformID] = o.UpdatedAt
		}
		if p.Next == "" {
			e.t.Fatalf("poll %d gave no next cursor", n)
		}
		cursor = p.Next
		if !p.More {
			return seen, cursor, n
		}
	}
}

func ids(m map[string]time.Time) []string { return slices.Sorted(maps.Keys(m)) }

func TestPollOrdersWindowAndFilters(t *testing.T) {
	e, clk := pollEnv(t, nil)
	e.addOrder(1, t0.Add(-24*time.Hour), "paid")                 // before the connection: not imported
	e.addOrder(2, t0.Add(5*time.Minute), "paid")                 // in the window
	e.addOrder(3, t0.Add(10*time.Minute), "voided")              // a cancellation: only with payment_status=voided
	e.addOrder(4, t0.Add(20*time.Minute), "pending")             // in the window
	e.addOrder(5, t0.Add(59*time.Minute+30*time.Second), "paid") // inside the lag: next window
	seen, cursor, _ := e.drain("")
	if got := ids(seen); !slices.Equal(got, []string{"2", "3", "4"}) {
		t.Fatalf("first window imported %v, want 2, 3, 4", got)
	}
	// An update to order 2 after the window, and order 5 settling, come in the next one.
	clk.add(10 * time.Minute)
	if _, err := e.sim.UpdateOrder(testStore, "2", map[string]any{"status": "cancelled", "payment_status": "voided"}); err != nil {
		t.Fatal(err)
	}
	clk.add(2 * time.Minute)
	seen, cursor, _ = e.drain(cursor)
	if got := ids(seen); !slices.Equal(got, []string{"2", "5"}) {
		t.Fatalf("second window imported %v, want 2 (updated) and 5 (settled)", got)
	}
	if !seen["2"].Equal(t0.Add(70 * time.Minute)) {
		t.Fatalf("order 2 came with updated_at %v, want its new version", seen["2"])
	}
	// Nothing settled since: no request at all.
	before := e.calls().ByEndpoint[nuvemshopsim.EpOrders]
	p, err := e.c.PollOrders(context.Background(), e.conn, cursor)
	if err != nil || len(p.Orders) != 0 || p.More {
		t.Fatalf("idle poll: %+v %v", p, err)
	}
	if after := e.calls().ByEndpoint[nuvemshopsim.EpOrders]; after != before {
		t.Fatalf("idle poll made %d requests", after-before)
	}
}

func TestPollOrdersStart(t *testing.T) {
	t.Run("orders_since", func(t *testing.T) {
		e, _ := pollEnv(t, map[string]string{"orders_since": t0.Add(-48 * time.Hour).Format(time.RFC3339)})
		e.addOrder(1, t0.Add(-24*time.Hour), "paid")
		if seen, _, _ := e.drain(""); !slices.Equal(ids(seen), []string{"1"}) {
			t.Fatalf("orders_since before the order: imported %v", ids(seen))
		}
	})
	t.Run("new connection", func(t *testing.T) {
		e, clk := pollEnv(t, nil)
		e.conn.CreatedAt = clk.now() // just created: nothing has settled since
		e.addOrder(1, t0.Add(-24*time.Hour), "paid")
		p, err := e.c.PollOrders(context.Background(), e.conn, "")
		if err != nil || len(p.Orders) != 0 || p.More || p.Next == "" {
			t.Fatalf("new connection: %+v %v", p, err)
		}
		if n := e.calls().ByEndpoint[nuvemshopsim.EpOrders]; n != 0 {
			t.Fatalf("new connection listed orders %d times", n)
		}
	})
	t.Run("bad settings and cursor", func(t *testing.T) {
		for _, s := range []map[string]string{{"orders_since": "yesterday"}, {"order_poll_payment_statuses": "paid,lost"},
			{"order_poll_payment_statuses": " , "}, {"order_page_size": "500"}, {"order_poll_lag_seconds": "-1"}} {
			e, _ := pollEnv(t, s)
			if _, err := e.c.PollOrders(context.Background(), e.conn, ""); kindOf(err) != platform.Permanent {
				t.Fatalf("settings %v: %v", s, err)
			}
		}
		e, _ := pollEnv(t, nil)
		if _, err := e.c.PollOrders(context.Background(), e.conn, "2025-01-01|3"); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "invalid order cursor") {
			t.Fatalf("bad cursor: %v", err)
		}
	})
}

// TestPollOrdersPagesShift: an order of the window updated while its pages are read
// leaves the window and shifts the pages; the poll reads the filter again, so no
// order is skipped.
func TestPollOrdersPagesShift(t *testing.T) {
	e, clk := pollEnv(t, map[string]string{"order_page_size": "2", "order_poll_payment_statuses": "any"})
	for i := 1; i <= 5; i++ {
		e.addOrder(i, t0.Add(time.Duration(i)*time.Minute), "paid")
	}
	seen := map[string]bool{}
	p, err := e.c.PollOrders(context.Background(), e.conn, "")
	if err != nil || !p.More || len(p.Orders) != 2 {
		t.Fatalf("page 1: %+v %v", p, err)
	}
	for _, o := range p.Orders {
		seen[o.PlatformID] = true
	}
	// The simulator lists newest first: page 1 held 5 and 4. Order 5 changes now.
	clk.add(time.Minute)
	if _, err := e.sim.UpdateOrder(testStore, "5", map[string]any{"payment_status": "paid", "note": "edited"}); err != nil {
		t.Fatal(err)
	}
	more, cursor, _ := e.drain(p.Next)
	for id := range more {
		seen[id] = true
	}
	if got := slices.Sorted(maps.Keys(seen)); !slices.Equal(got, []string{"1", "2", "3", "4", "5"}) {
		t.Fatalf("first window saw %v; an order was skipped when pages shifted", got)
	}
	clk.add(5 * time.Minute)
	next, _, _ := e.drain(cursor)
	if _, ok := next["5"]; !ok {
		t.Fatalf("the edited order did not come in the next window: %v", ids(next))
	}
}

// TestPollOrdersSplitsDeepWindow: GET /orders pages no deeper than 10000 orders, so a
// window holding more is halved until it fits.
func TestPollOrdersSplitsDeepWindow(t *testing.T) {
	e, _ := pollEnv(t, map[string]string{"order_poll_payment_statuses": "any", "rate_limit_bucket": "100000"})
	for i := 1; i <= maxListResults+1; i++ {
		e.addOrder(i, t0.Add(time.Duration(i)*time.Second/4), "paid")
	}
	p, err := e.c.PollOrders(context.Background(), e.conn, "")
	if err != nil || !p.More || len(p.Orders) != 0 {
		t.Fatalf("deep window: %d orders, more %v, %v", len(p.Orders), p.More, err)
	}
	c, ok := parsePollCursor(p.Next)
	if !ok || !c.Since.Equal(t0) || !c.Until.Before(t0.Add(30*time.Minute)) || c.Page != 1 {
		t.Fatalf("split cursor %q", p.Next)
	}
	total := 0
	cursor := p.Next
	for n := 0; n < 200; n++ {
		p, err := e.c.PollOrders(context.Background(), e.conn, cursor)
		if err != nil {
			t.Fatal(err)
		}
		total += len(p.Orders)
		cursor = p.Next
		if !p.More {
			break
		}
	}
	if total < maxListResults/2 {
		t.Fatalf("read only %d orders of the first half", total)
	}
}

func TestPollOrdersBadOrderNamed(t *testing.T) {
	e, _ := pollEnv(t, map[string]string{"order_poll_payment_statuses": "any"})
	e.addOrder(1, t0.Add(time.Minute), "paid")
	bad := fmt.Sprintf(`{"id":2,"payment_status":"paid","created_at":%q,"updated_at":%q,"products":[]}`,
		t0.Add(2*time.Minute).Format(time.RFC3339), t0.Add(2*time.Minute).Format(time.RFC3339))
	if err := e.sim.AddOrder(testStore, []byte(bad)); err != nil {
		t.Fatal(err)
	}
	p, err := e.c.PollOrders(context.Background(), e.conn, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Failed) != 1 || p.Failed[0].PlatformID != "2" || !strings.Contains(p.Failed[0].Reason, "field total") {
		t.Fatalf("broken order not named: %+v", p.Failed)
	}
	if len(p.Orders) != 1 || p.Orders[0].PlatformID != "1" || p.Next == "" {
		t.Fatalf("the readable order is lost: %+v", p)
	}
}
