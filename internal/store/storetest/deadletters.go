package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/store"
)

// deadLetter builds a row; minute orders rows in time (ties are allowed on purpose).
func deadLetter(tenantID, conn, queueName, id string, minute int) store.DeadLetter {
	return store.DeadLetter{
		Tenant: tenantID, Connection: conn, Queue: queueName, ID: id,
		Reason: "platform refused: " + id, Attempts: 3,
		SentAt: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC),
		DeadAt: time.Date(2025, 3, 1, 10, minute, 0, 123456789, time.UTC),
		Group:  conn, Key: "k-" + id,
		Body: []byte(fmt.Sprintf(`{"tenant":%q,"connection":%q,"sku":%q}`, tenantID, conn, id)),
	}
}

// newestFirst sorts rows as ListDeadLetters must return them.
func newestFirst(rows []store.DeadLetter) {
	slices.SortFunc(rows, func(a, b store.DeadLetter) int {
		if c := b.DeadAt.Compare(a.DeadAt); c != 0 {
			return c
		}
		if c := strings.Compare(b.Queue, a.Queue); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
}

func deadKeys(rows []store.DeadLetter) []string {
	out := make([]string, len(rows))
	for i, d := range rows {
		out[i] = d.Queue + "/" + d.ID
	}
	return out
}

// listAllDead walks every page of a listing, checking each page's size.
func listAllDead(t *testing.T, s store.Store, tenantID string, f store.DeadLetterFilter, limit int) []store.DeadLetter {
	t.Helper()
	var out []store.DeadLetter
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("listing %s %+v never ends", tenantID, f)
		}
		page, next, err := s.ListDeadLetters(ctx(t), tenantID, f, cursor, limit)
		noErr(t, "list dead letters", err)
		if len(page) > limit {
			t.Fatalf("page of %d rows, limit %d", len(page), limit)
		}
		if next != "" && len(page) == 0 {
			t.Fatalf("empty page with a next cursor")
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		cursor = next
	}
}

func testDeadLetterRoundTrip(t *testing.T, s store.Store) {
	d := deadLetter("t1", "c1", "push-tray", "m1", 1)
	noErr(t, "put", s.PutDeadLetter(ctx(t), d))
	got, err := s.GetDeadLetter(ctx(t), "t1", "push-tray", "m1")
	noErr(t, "get", err)
	sameJSON(t, "dead letter", d, got)
	wantUTC(t, "dead_at", got.DeadAt)

	// The same message filed again (redelivered and dead again) replaces its row.
	d.Reason, d.Attempts, d.DeadAt = "second death", 5, d.DeadAt.Add(time.Minute)
	noErr(t, "put again", s.PutDeadLetter(ctx(t), d))
	got, err = s.GetDeadLetter(ctx(t), "t1", "push-tray", "m1")
	noErr(t, "get again", err)
	sameJSON(t, "replaced dead letter", d, got)
	counts, err := s.CountDeadLetters(ctx(t), "t1")
	noErr(t, "count", err)
	sameJSON(t, "counts after replace", []store.DeadLetterCount{{Queue: "push-tray", Connection: "c1", Count: 1}}, counts)
	rows := listAllDead(t, s, "t1", store.DeadLetterFilter{}, 10)
	if len(rows) != 1 {
		t.Errorf("listing after replace: %v, want one row", deadKeys(rows))
	}

	// Another tenant sees nothing of it, by id or listing.
	_, err = s.GetDeadLetter(ctx(t), "t2", "push-tray", "m1")
	wantErr(t, "get from another tenant", err, store.ErrNotFound)
	if rows := listAllDead(t, s, "t2", store.DeadLetterFilter{}, 10); len(rows) != 0 {
		t.Errorf("another tenant lists %v", deadKeys(rows))
	}

	noErr(t, "delete", s.DeleteDeadLetter(ctx(t), "t1", "push-tray", "m1"))
	_, err = s.GetDeadLetter(ctx(t), "t1", "push-tray", "m1")
	wantErr(t, "get deleted", err, store.ErrNotFound)
	noErr(t, "delete absent", s.DeleteDeadLetter(ctx(t), "t1", "push-tray", "m1"))
	counts, err = s.CountDeadLetters(ctx(t), "t1")
	noErr(t, "count after delete", err)
	if len(counts) != 0 {
		t.Errorf("counts after delete: %+v, want none", counts)
	}

	for _, bad := range []store.DeadLetter{
		{Tenant: "t1", ID: "x", DeadAt: d.DeadAt},
		{Tenant: "t1", Queue: "q", DeadAt: d.DeadAt},
		{Tenant: "t1", Queue: "q", ID: "x"},
	} {
		if err := s.PutDeadLetter(ctx(t), bad); err == nil {
			t.Errorf("put %+v: accepted, want an error", bad)
		}
	}
}

func testDeadLetterListing(t *testing.T, s store.Store) {
	// Tenant A: 23 rows over two connections, two queues and a connection-less fan-out
	// message, with ties on dead_at; tenant B: 3 rows on its own connection.
	var a, b []store.DeadLetter
	for i := range 23 {
		conn := []string{"a-shop1", "a-shop2", ""}[i%3]
		q := "push-tray"
		switch {
		case conn == "":
			q = "changes"
		case i%2 == 0:
			q = "orders"
		}
		a = append(a, deadLetter("A", conn, q, fmt.Sprintf("a%02d", i), i/4))
	}
	for i := range 3 {
		b = append(b, deadLetter("B", "b-shop", "push-tray", fmt.Sprintf("b%02d", i), 30+i))
	}
	for _, d := range append(slices.Clone(a), b...) {
		noErr(t, "put "+d.ID, s.PutDeadLetter(ctx(t), d))
	}
	filter := func(rows []store.DeadLetter, keep func(store.DeadLetter) bool) []store.DeadLetter {
		var out []store.DeadLetter
		for _, d := range rows {
			if keep(d) {
				out = append(out, d)
			}
		}
		newestFirst(out)
		return out
	}
	cases := []struct {
		name   string
		tenant string
		f      store.DeadLetterFilter
		limit  int
		want   []store.DeadLetter
	}{
		{"tenant B whole", "B", store.DeadLetterFilter{}, 100, filter(b, func(store.DeadLetter) bool { return true })},
		{"tenant B by twos", "B", store.DeadLetterFilter{}, 2, filter(b, func(store.DeadLetter) bool { return true })},
		{"tenant A by sevens", "A", store.DeadLetterFilter{}, 7, filter(a, func(store.DeadLetter) bool { return true })},
		{"tenant A one by one", "A", store.DeadLetterFilter{}, 1, filter(a, func(store.DeadLetter) bool { return true })},
		{"A's shop1", "A", store.DeadLetterFilter{Connection: "a-shop1"}, 3,
			filter(a, func(d store.DeadLetter) bool { return d.Connection == "a-shop1" })},
		{"A's orders queue", "A", store.DeadLetterFilter{Queue: "orders"}, 2,
			filter(a, func(d store.DeadLetter) bool { return d.Queue == "orders" })},
		{"A's shop2 on push-tray", "A", store.DeadLetterFilter{Connection: "a-shop2", Queue: "push-tray"}, 2,
			filter(a, func(d store.DeadLetter) bool { return d.Connection == "a-shop2" && d.Queue == "push-tray" })},
		{"B's connection asked as A", "A", store.DeadLetterFilter{Connection: "b-shop"}, 5, nil},
		{"unknown tenant", "Z", store.DeadLetterFilter{}, 5, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := listAllDead(t, s, c.tenant, c.f, c.limit)
			if !slices.Equal(deadKeys(got), deadKeys(c.want)) {
				t.Errorf("listing:\ngot  %v\nwant %v", deadKeys(got), deadKeys(c.want))
			}
			for i := range min(len(got), len(c.want)) {
				sameJSON(t, "row "+got[i].ID, c.want[i], got[i])
			}
		})
	}

	counts, err := s.CountDeadLetters(ctx(t), "A")
	noErr(t, "count A", err)
	want := map[[2]string]int{}
	for _, d := range a {
		want[[2]string{d.Queue, d.Connection}]++
	}
	var wantCounts []store.DeadLetterCount
	for k, n := range want {
		wantCounts = append(wantCounts, store.DeadLetterCount{Queue: k[0], Connection: k[1], Count: n})
	}
	slices.SortFunc(wantCounts, func(x, y store.DeadLetterCount) int {
		if c := strings.Compare(x.Queue, y.Queue); c != 0 {
			return c
		}
		return strings.Compare(x.Connection, y.Connection)
	})
	sameJSON(t, "counts of A", wantCounts, counts)
	counts, err = s.CountDeadLetters(ctx(t), "B")
	noErr(t, "count B", err)
	sameJSON(t, "counts of B", []store.DeadLetterCount{{Queue: "push-tray", Connection: "b-shop", Count: 3}}, counts)

	// Rows removed between pages (a retry in progress) shift nothing: the walk goes on
	// from its position and returns every remaining row once.
	all := filter(a, func(store.DeadLetter) bool { return true })
	page, next, err := s.ListDeadLetters(ctx(t), "A", store.DeadLetterFilter{}, "", 5)
	noErr(t, "first page", err)
	if !slices.Equal(deadKeys(page), deadKeys(all[:5])) || next == "" {
		t.Fatalf("first page %v (next %q), want %v", deadKeys(page), next, deadKeys(all[:5]))
	}
	for _, d := range append(slices.Clone(page), all[7]) {
		noErr(t, "delete "+d.ID, s.DeleteDeadLetter(ctx(t), "A", d.Queue, d.ID))
	}
	var rest []store.DeadLetter
	for cursor := next; cursor != ""; {
		var p []store.DeadLetter
		p, cursor, err = s.ListDeadLetters(ctx(t), "A", store.DeadLetterFilter{}, cursor, 4)
		noErr(t, "next page", err)
		rest = append(rest, p...)
	}
	wantRest := append(slices.Clone(all[5:7]), all[8:]...)
	if !slices.Equal(deadKeys(rest), deadKeys(wantRest)) {
		t.Errorf("after deletes:\ngot  %v\nwant %v", deadKeys(rest), deadKeys(wantRest))
	}

	for _, bad := range []string{"%%%", "bm90IGpzb24", "e30"} {
		_, _, err := s.ListDeadLetters(ctx(t), "A", store.DeadLetterFilter{}, bad, 5)
		if !errors.Is(err, store.ErrBadDeadLetterCursor) {
			t.Errorf("cursor %q: error %v, want ErrBadDeadLetterCursor", bad, err)
		}
	}
}
