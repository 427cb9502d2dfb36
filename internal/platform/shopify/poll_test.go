package shopify

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/shopify/shopifysim"
)

// gqlOrderBody is an order as order(id:) returns it, updated at updated, with n lines
// of 2.50 each.
func gqlOrderBody(id int, updated string, n int) []byte {
	var lines []string
	for i := range n {
		lines = append(lines, fmt.Sprintf(`{"sku":"L%d","quantity":1,"variant":{"id":"gid://shopify/ProductVariant/%d"},
			"product":{"id":"gid://shopify/Product/7"},"originalUnitPriceSet":{"shopMoney":{"amount":"2.50"}},"discountAllocations":[],
			"taxLines":[{"priceSet":{"shopMoney":{"amount":"0.25"}}}]}`, i, 100+i))
	}
	total := fmt.Sprintf("%.2f", 2.75*float64(n))
	return fmt.Appendf(nil, `{"id":"gid://shopify/Order/%d","legacyResourceId":"%d","name":"#%d","currencyCode":"BRL",
		"createdAt":"2026-01-01T00:00:00Z","updatedAt":%q,"displayFinancialStatus":"PAID","taxesIncluded":false,
		"totalPriceSet":{"shopMoney":{"amount":%q}},"totalTaxSet":{"shopMoney":{"amount":"%.2f"}},
		"lineItems":{"nodes":[%s]}}`, id, id, id, updated, total, 0.25*float64(n), strings.Join(lines, ","))
}

// pollAll polls from cursor until More is false and returns the orders' ids in order.
func pollAll(t *testing.T, e *env, cursor string) (ids []string, next string, orders []domain.Order) {
	t.Helper()
	for range 50 {
		page, err := e.c.PollOrders(context.Background(), e.conn, cursor)
		if err != nil {
			t.Fatal(err)
		}
		if page.Next == "" {
			t.Fatal("a poll must always hand back a cursor")
		}
		for _, o := range page.Orders {
			ids = append(ids, o.PlatformID)
		}
		orders = append(orders, page.Orders...)
		cursor = page.Next
		if !page.More {
			return ids, cursor, orders
		}
	}
	t.Fatal("poll never finished")
	return nil, "", nil
}

func TestPollOrders(t *testing.T) {
	e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, map[string]string{"order_poll_page_size": "2"})
	e.conn.CreatedAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	add := func(id int, updated string, lines int) {
		t.Helper()
		if err := e.sim.AddOrder(testShop, gqlOrderBody(id, updated, lines)); err != nil {
			t.Fatal(err)
		}
	}
	add(1, "2026-02-28T09:00:00Z", 1) // history from before the connection: never polled
	add(5, "2026-03-01T12:00:00Z", 1) // updated the second the connection was made
	add(3, "2026-03-02T08:00:00Z", 13)
	add(4, "2026-03-02T08:00:00Z", 1) // same second as 3
	add(2, "2026-03-03T10:30:00-03:00", 2)

	ids, cursor, orders := pollAll(t, e, "")
	if got := strings.Join(ids, ","); got != "5,3,4,2" {
		t.Fatalf("first pass returned %s, want 5,3,4,2 (oldest first, nothing from before the connection)", got)
	}
	for _, o := range orders {
		if msg := o.CheckTotal(); msg != "" || o.Tax == nil {
			t.Fatalf("order %s: tax %v: %s", o.PlatformID, o.Tax, msg)
		}
	}
	if n := len(orders[1].Lines); n != 13 || orders[1].Lines[12].SKU != "L12" {
		t.Fatalf("order 3 has %d lines; the 3 beyond the first 10 come from GetOrder", n)
	}
	if e.ops("GetOrder") != 1 {
		t.Fatalf("%d GetOrder calls, want 1 for the lines of order 3", e.ops("GetOrder"))
	}

	// Nothing changed: nothing comes back, not even the orders of the last second.
	if ids, _, _ := pollAll(t, e, cursor); len(ids) != 0 {
		t.Fatalf("an unchanged shop returned %v", ids)
	}
	// A lost webhook: an order appears in the same second as the newest seen, another
	// is updated later. Both come back, once.
	add(6, "2026-03-03T13:30:00Z", 1)
	add(4, "2026-03-04T00:00:00Z", 1)
	ids, cursor, _ = pollAll(t, e, cursor)
	if got := strings.Join(ids, ","); got != "6,4" {
		t.Fatalf("second pass returned %s, want 6,4", got)
	}
	if ids, _, _ := pollAll(t, e, cursor); len(ids) != 0 {
		t.Fatalf("third pass returned %v", ids)
	}
}

func TestPollOrdersStart(t *testing.T) {
	e := newEnv(t, shopifysim.Options{}, shopifysim.StoreConfig{}, nil)
	if err := e.sim.AddOrder(testShop, gqlOrderBody(1, "2026-02-01T00:00:00Z", 1)); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AddOrder(testShop, gqlOrderBody(2, "2026-03-05T00:00:00Z", 1)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		created time.Time
		since   string
		want    string
		kind    platform.Kind
	}{
		{name: "from the connection's creation", created: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), want: "2"},
		{name: "orders_since wins", created: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), since: "2026-01-15T00:00:00-03:00", want: "1,2"},
		{name: "no start at all", kind: platform.Permanent},
		{name: "orders_since not a time", created: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), since: "last week", kind: platform.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := e.conn
			conn.CreatedAt = tt.created
			conn.Settings = map[string]string{"base_url": e.conn.Settings["base_url"], "orders_since": tt.since}
			if tt.since == "" {
				delete(conn.Settings, "orders_since")
			}
			page, err := e.c.PollOrders(context.Background(), conn, "")
			if tt.want == "" {
				if err == nil || kindOf(err) != tt.kind {
					t.Fatalf("got %v, want a %v error", err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, o := range page.Orders {
				ids = append(ids, o.PlatformID)
			}
			if strings.Join(ids, ",") != tt.want {
				t.Fatalf("got %v, want %s", ids, tt.want)
			}
		})
	}
}

func TestPollOrdersErrors(t *testing.T) {
	frozen := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC) // the drained bucket does not refill
	e := newEnv(t, shopifysim.Options{Now: func() time.Time { return frozen }}, shopifysim.StoreConfig{}, nil)
	e.conn.CreatedAt = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	for _, bad := range []string{"garbage!", "e30", pollCursor{Since: e.conn.CreatedAt, After: "x"}.encode()} {
		if _, err := e.c.PollOrders(ctx, e.conn, bad); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "invalid order cursor") {
			t.Fatalf("cursor %q: %v", bad, err)
		}
	}
	big := e.conn
	big.Settings = map[string]string{"base_url": e.conn.Settings["base_url"], "order_poll_page_size": "12"}
	if _, err := e.c.PollOrders(ctx, big, ""); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "order_poll_page_size") {
		t.Fatalf("a page over the cost limit: %v", err)
	}
	e.sim.DrainBucket(testShop)
	e.c = New(e.secrets, Options{}) // a connector whose bucket does not know the shop is drained
	if _, err := e.c.PollOrders(ctx, e.conn, ""); kindOf(err) != platform.RateLimited {
		t.Fatalf("drained bucket: %v", err)
	}
	e.sim.RevokeToken(testShop)
	e.c = New(e.secrets, Options{}) // not paused by the throttle above
	if _, err := e.c.PollOrders(ctx, e.conn, ""); kindOf(err) != platform.Auth {
		t.Fatalf("revoked token: %v", err)
	}
}
