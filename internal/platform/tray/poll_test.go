package tray

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
)

// putOrder stores the fixture order under id, modified at (São Paulo wall clock).
func putOrder(t *testing.T, e *env, id string, at time.Time) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "order_complete.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	sp := at.In(e.c.sp)
	o := doc["Order"].(map[string]any)
	o["id"] = id
	o["date"] = sp.Format(time.DateOnly)
	o["hour"] = sp.Format(time.TimeOnly)
	o["modified"] = sp.Format(time.DateTime)
	b, _ := json.Marshal(doc)
	if err := e.sim.AddOrder(testStore, b); err != nil {
		t.Fatal(err)
	}
}

// drain polls until the connector says nothing more is ready, returning the ids in
// the order they came and the final cursor.
func drain(t *testing.T, e *env, cursor string) ([]string, string) {
	t.Helper()
	var ids []string
	for i := 0; i < 100; i++ {
		p, err := e.c.PollOrders(context.Background(), e.conn, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Orders {
			ids = append(ids, o.PlatformID)
		}
		if p.Next != "" {
			cursor = p.Next
		}
		if !p.More {
			return ids, cursor
		}
	}
	t.Fatal("poll never finished")
	return nil, ""
}

func TestPollOrders(t *testing.T) {
	e := newEnv(t, traysim.Options{}, nil)
	created := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	e.clock.t = created.Add(6 * time.Hour)
	e.conn.CreatedAt = created
	putOrder(t, e, "10", created.Add(-time.Hour)) // history: before the connection
	putOrder(t, e, "11", created.Add(-24*time.Hour))
	var want []string
	for i := range 120 {
		id := strconv.Itoa(1000 + i)
		// Two orders per second: ties on the modification time are kept apart by id.
		putOrder(t, e, id, created.Add(time.Duration(i/2)*time.Second))
		want = append(want, id)
	}
	got, cursor := drain(t, e, "")
	if !slices.Equal(got, want) {
		t.Fatalf("first pass took %d orders %v..., want the 120 after the connection's creation, oldest first", len(got), got[:min(len(got), 5)])
	}
	if again, _ := drain(t, e, cursor); len(again) != 0 {
		t.Fatalf("a second pass with nothing changed took %v", again)
	}

	// Orders changed again move to the end of Tray's list; each is taken once more.
	putOrder(t, e, "1003", created.Add(2*time.Hour))
	putOrder(t, e, "1100", created.Add(2*time.Hour))
	got, cursor = drain(t, e, cursor)
	if !slices.Equal(got, []string{"1003", "1100"}) {
		t.Fatalf("re-modified orders: got %v", got)
	}
	if again, _ := drain(t, e, cursor); len(again) != 0 {
		t.Fatalf("took %v again", again)
	}
}

// TestPollOrdersPagesShift: orders of pages already read are modified between polls,
// moving every later order one place up; none may be skipped.
func TestPollOrdersPagesShift(t *testing.T) {
	e := newEnv(t, traysim.Options{}, nil)
	created := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	e.clock.t = created.Add(6 * time.Hour)
	e.conn.CreatedAt = created
	for i := range 150 {
		putOrder(t, e, strconv.Itoa(1000+i), created.Add(time.Duration(i)*time.Second))
	}
	p, err := e.c.PollOrders(context.Background(), e.conn, "")
	if err != nil || !p.More || len(p.Orders) != pollPageSize {
		t.Fatalf("first page: %d orders, more %v, %v", len(p.Orders), p.More, err)
	}
	p2, err := e.c.PollOrders(context.Background(), e.conn, p.Next)
	if err != nil || len(p2.Orders) == 0 {
		t.Fatalf("second page: %d orders, %v", len(p2.Orders), err)
	}
	// 60 orders already taken change again: everything after them shifts up 60 places.
	for i := range 60 {
		putOrder(t, e, strconv.Itoa(1000+i), created.Add(time.Hour+time.Duration(i)*time.Second))
	}
	rest, _ := drain(t, e, p2.Next)
	seen := map[string]int{}
	for _, o := range append(p.Orders, p2.Orders...) {
		seen[o.PlatformID]++
	}
	for _, id := range rest {
		seen[id]++
	}
	for i := range 150 {
		id := strconv.Itoa(1000 + i)
		want := 1
		if i < 60 {
			want = 2 // once as placed, once as changed
		}
		if seen[id] != want {
			t.Fatalf("order %s taken %d times, want %d", id, seen[id], want)
		}
	}
}

func TestPollOrdersSettingsAndErrors(t *testing.T) {
	e := newEnv(t, traysim.Options{}, map[string]string{"orders_since": "2026-03-10 08:00:00"})
	e.clock.t = time.Date(2026, 3, 10, 18, 0, 0, 0, time.UTC)
	e.conn.CreatedAt = e.clock.t                                        // orders_since wins over the creation time
	putOrder(t, e, "1", time.Date(2026, 3, 10, 10, 59, 0, 0, time.UTC)) // 07:59 in São Paulo
	putOrder(t, e, "2", time.Date(2026, 3, 10, 11, 1, 0, 0, time.UTC))  // 08:01
	if got, _ := drain(t, e, ""); !slices.Equal(got, []string{"2"}) {
		t.Fatalf("orders_since (Brazil time): got %v", got)
	}
	if _, err := e.c.PollOrders(context.Background(), e.conn, "not a cursor"); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "cursor") {
		t.Fatalf("bad cursor: %v", err)
	}
	e.conn.Settings["orders_since"] = "yesterday"
	if _, err := e.c.PollOrders(context.Background(), e.conn, ""); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "orders_since") {
		t.Fatalf("bad orders_since: %v", err)
	}
	delete(e.conn.Settings, "orders_since")

	// A transient failure while fetching keeps the cursor: the same orders come next time.
	putOrder(t, e, "3", e.clock.t.Add(-time.Minute))
	e.conn.CreatedAt = e.clock.t.Add(-time.Hour)
	e.sim.InjectFault(testStore, traysim.Fault{Kind: traysim.FaultServerError, Count: 1})
	if _, err := e.c.PollOrders(context.Background(), e.conn, ""); kindOf(err) != platform.Transient {
		t.Fatalf("list failure: %v", err)
	}
	if got, _ := drain(t, e, ""); !slices.Equal(got, []string{"3"}) {
		t.Fatalf("after the failure: got %v", got)
	}
	if n := e.endpoint(traysim.EpOrderList); n == 0 {
		t.Fatal("GET /orders never called")
	}
}
