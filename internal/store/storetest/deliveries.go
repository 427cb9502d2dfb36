package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// delivery fills every field a webhook intake sets; the body has bytes that are not UTF-8.
func delivery(conn, id string, received time.Time) store.Delivery {
	return store.Delivery{
		ConnectionID: conn, ID: id, Tenant: "ta", Platform: "tray",
		Event:      json.RawMessage(`{"kind":"order","order_id":"1001","scope":"order_update"}`),
		Body:       []byte("scope_name=order&scope_id=1001&act=update&seller_id=42\xff\x00"),
		ReceivedAt: received,
	}
}

func testDeliveries(t *testing.T, s store.Store) {
	c := ctx(t)
	first := delivery("c1", "evt-1", at)
	created, err := s.PutDelivery(c, first)
	noErr(t, "first put", err)
	if !created {
		t.Fatal("first put: created=false")
	}

	again := delivery("c1", "evt-1", at.Add(time.Minute))
	again.Body = []byte("a different body")
	created, err = s.PutDelivery(c, again)
	noErr(t, "second put", err)
	if created {
		t.Error("second put of the same (connection, id): created=true")
	}

	other := delivery("c2", "evt-1", at) // same id on another connection is another delivery
	created, err = s.PutDelivery(c, other)
	noErr(t, "other connection", err)
	if !created {
		t.Error("same id on another connection: created=false")
	}

	got, err := s.GetDelivery(c, "c1", "evt-1")
	noErr(t, "get", err)
	sameJSON(t, "delivery", first, got)
	if !bytes.Equal(got.Body, first.Body) {
		t.Errorf("body %q, want the first body %q", got.Body, first.Body)
	}
	wantUTC(t, "received_at", got.ReceivedAt)
	if got.ProcessedAt != nil || got.Outcome != "" {
		t.Errorf("fresh delivery is processed: %v %q", got.ProcessedAt, got.Outcome)
	}

	for _, tc := range []struct{ name, conn, id string }{
		{"unknown id", "c1", "evt-404"},
		{"unknown connection", "c9", "evt-1"},
	} {
		t.Run("get "+tc.name, func(t *testing.T) {
			_, err := s.GetDelivery(c, tc.conn, tc.id)
			wantErr(t, "get", err, store.ErrNotFound)
		})
	}

	t.Run("mark processed", func(t *testing.T) {
		done := at.Add(3 * time.Second)
		for i := range 2 { // idempotent: the worker may handle a delivery twice
			noErr(t, fmt.Sprintf("mark %d", i), s.MarkDeliveryProcessed(c, "c1", "evt-1", "accepted", done))
		}
		got, err := s.GetDelivery(c, "c1", "evt-1")
		noErr(t, "get", err)
		if got.ProcessedAt == nil || !got.ProcessedAt.Equal(done) || got.Outcome != "accepted" {
			t.Fatalf("processed_at %v outcome %q, want %v accepted", got.ProcessedAt, got.Outcome, done)
		}
		wantUTC(t, "processed_at", *got.ProcessedAt)
		if !bytes.Equal(got.Body, first.Body) || !got.ReceivedAt.Equal(first.ReceivedAt) {
			t.Error("marking changed the stored delivery")
		}
		err = s.MarkDeliveryProcessed(c, "c1", "evt-404", "accepted", done)
		wantErr(t, "mark absent", err, store.ErrNotFound)
	})
}

func testDeliveryRace(t *testing.T, s store.Store) {
	c := ctx(t)
	winner := oneWinner(t, 20, func(g int) (string, bool) {
		d := delivery("c1", "race", at)
		d.Body = fmt.Appendf(nil, "body-%d", g)
		created, err := s.PutDelivery(c, d)
		if err != nil {
			t.Errorf("writer %d: %v", g, err)
		}
		return string(d.Body), created
	})
	got, err := s.GetDelivery(c, "c1", "race")
	noErr(t, "get", err)
	if string(got.Body) != winner {
		t.Errorf("stored body %q, want the winner's %q", got.Body, winner)
	}
}

// oneWinner runs n writers at once; each returns the tag it wrote and whether it won
// (errors other than losing are reported by the writer). It fails unless exactly one
// won and returns that winner's tag.
func oneWinner(t *testing.T, n int, write func(g int) (tag string, won bool)) string {
	t.Helper()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []string
	)
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tag, won := write(g)
			if won {
				mu.Lock()
				winners = append(winners, tag)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d writers won (%v), want exactly one", len(winners), winners)
	}
	return winners[0]
}

func testUnprocessedDeliveries(t *testing.T, s store.Store) {
	c := ctx(t)
	// Put out of time order, across connections: the sweeper sees every connection.
	for _, d := range []store.Delivery{
		delivery("c2", "d3", at.Add(3*time.Second)),
		delivery("c1", "d1", at.Add(1*time.Second)),
		delivery("c1", "d4", at.Add(4*time.Second)),
		delivery("c3", "d2", at.Add(2*time.Second)),
		delivery("c1", "d5", at.Add(5*time.Second)),
	} {
		_, err := s.PutDelivery(c, d)
		noErr(t, "put "+d.ID, err)
	}
	noErr(t, "mark d3", s.MarkDeliveryProcessed(c, "c2", "d3", "rejected", at.Add(time.Minute)))

	for _, tc := range []struct {
		name   string
		before time.Time
		limit  int
		want   []string
	}{
		{"all unprocessed oldest first", at.Add(time.Hour), 10, []string{"d1", "d2", "d4", "d5"}},
		{"limit", at.Add(time.Hour), 2, []string{"d1", "d2"}},
		{"before is exclusive", at.Add(4 * time.Second), 10, []string{"d1", "d2"}},
		{"before with limit", at.Add(4*time.Second + 1), 1, []string{"d1"}},
		{"nothing that old", at, 10, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListUnprocessedDeliveries(c, tc.before, tc.limit)
			noErr(t, "list", err)
			var ids []string
			for _, d := range got {
				ids = append(ids, d.ID)
				wantUTC(t, "received_at", d.ReceivedAt)
				if d.ProcessedAt != nil {
					t.Errorf("%s is processed", d.ID)
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", ids, tc.want)
			}
		})
	}
	got, err := s.ListUnprocessedDeliveries(c, at.Add(time.Hour), 1)
	noErr(t, "list one", err)
	if len(got) == 1 {
		sameJSON(t, "listed delivery", delivery("c1", "d1", at.Add(time.Second)), got[0])
	}
}

func testPurchaseNeeds(t *testing.T, s store.Store) {
	c := ctx(t)
	need := func(tenantID, supplier, sku, order string, qty int64) domain.PurchaseNeed {
		return domain.PurchaseNeed{Tenant: tenantID, Supplier: supplier, SKU: sku, OrderID: order, ConnectionID: "c1", Quantity: qty, CreatedAt: at}
	}
	noErr(t, "put", s.PutPurchaseNeeds(c, []domain.PurchaseNeed{
		need("ta", "S2", "SKU-B", "o1", 1),
		need("ta", "S1", "SKU-A", "o2", 2),
		need("ta", "S1", "SKU-A", "o1", 3),
		need("ta", "S1", "SKU-C", "o1", 4),
		need("tb", "S1", "SKU-A", "o9", 9),
	}))
	noErr(t, "put none", s.PutPurchaseNeeds(c, nil))
	// Same (tenant, order, SKU) replaces, even when the supplier changed.
	noErr(t, "replace", s.PutPurchaseNeeds(c, []domain.PurchaseNeed{
		need("ta", "S1", "SKU-A", "o1", 5),
		need("ta", "S3", "SKU-C", "o1", 6),
	}))

	list := func(t *testing.T, tenantID, supplier string, want []domain.PurchaseNeed) {
		t.Helper()
		got, err := s.ListPurchaseNeeds(c, tenantID, supplier)
		noErr(t, "list", err)
		if len(got) != len(want) {
			t.Fatalf("got %d needs, want %d: %+v", len(got), len(want), got)
		}
		for i := range want {
			sameJSON(t, fmt.Sprintf("need %d", i), want[i], got[i])
			wantUTC(t, "created_at", got[i].CreatedAt)
		}
	}
	for _, tc := range []struct {
		name, tenant, supplier string
		want                   []domain.PurchaseNeed
	}{
		{"all, by supplier sku order", "ta", "", []domain.PurchaseNeed{
			need("ta", "S1", "SKU-A", "o1", 5), need("ta", "S1", "SKU-A", "o2", 2),
			need("ta", "S2", "SKU-B", "o1", 1), need("ta", "S3", "SKU-C", "o1", 6),
		}},
		{"one supplier", "ta", "S1", []domain.PurchaseNeed{need("ta", "S1", "SKU-A", "o1", 5), need("ta", "S1", "SKU-A", "o2", 2)}},
		{"other tenant", "tb", "", []domain.PurchaseNeed{need("tb", "S1", "SKU-A", "o9", 9)}},
		{"unknown supplier", "ta", "S404", nil},
	} {
		t.Run(tc.name, func(t *testing.T) { list(t, tc.tenant, tc.supplier, tc.want) })
	}

	t.Run("delete by order", func(t *testing.T) {
		noErr(t, "delete", s.DeletePurchaseNeeds(c, "ta", "o1"))
		noErr(t, "delete absent", s.DeletePurchaseNeeds(c, "ta", "o404"))
		noErr(t, "delete other tenant's order id", s.DeletePurchaseNeeds(c, "tb", "o2"))
		list(t, "ta", "", []domain.PurchaseNeed{need("ta", "S1", "SKU-A", "o2", 2)})
		list(t, "tb", "", []domain.PurchaseNeed{need("tb", "S1", "SKU-A", "o9", 9)})
	})
}

func testCursors(t *testing.T, s store.Store) {
	c := ctx(t)
	got, err := s.GetCursor(c, "poll/c1")
	noErr(t, "get unset", err)
	if got != "" {
		t.Errorf("unset cursor = %q, want \"\"", got)
	}
	for _, v := range []string{"2025-03-14T15:09:26Z|1001", "page=2&since=x y"} {
		noErr(t, "put", s.PutCursor(c, "poll/c1", v))
		got, err := s.GetCursor(c, "poll/c1")
		noErr(t, "get", err)
		if got != v {
			t.Errorf("cursor = %q, want %q", got, v)
		}
	}
	got, err = s.GetCursor(c, "poll/c2")
	noErr(t, "get other", err)
	if got != "" {
		t.Errorf("other cursor = %q, want \"\"", got)
	}
}
