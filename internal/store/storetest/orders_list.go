package storetest

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

// notOffered marks a fixture order never offered to the ERP (nil OfferedAt).
const notOffered = time.Duration(math.MinInt64)

// listFixture is a spread of orders: ERP states, order states, two connections, an
// OfferedAt tie (broken by ID) and orders of another tenant, one on the same connection id.
func listFixture() []domain.OrderRecord {
	mk := func(tenantID, conn, pid string, st domain.OrderState, erp domain.ERPState, offered time.Duration) domain.OrderRecord {
		r := orderRecord(tenantID, conn, pid, 1)
		r.State = st
		r.ERP = domain.ERPHandoff{State: erp}
		if offered != notOffered {
			r.ERP.OfferedAt = timePtr(at.Add(offered))
		}
		return r
	}
	return []domain.OrderRecord{
		mk("ta", "c1", "p1", domain.OrderAccepted, domain.ERPPending, 3*time.Second),
		mk("ta", "c2", "p2", domain.OrderAccepted, domain.ERPPending, 1*time.Second),
		mk("ta", "c1", "p3", domain.OrderAccepted, domain.ERPPending, 1*time.Second),
		mk("ta", "c1", "p4", domain.OrderAccepted, domain.ERPPending, 2*time.Second),
		mk("ta", "c2", "p5", domain.OrderCancelled, domain.ERPPending, 5*time.Second),
		mk("ta", "c1", "p6", domain.OrderAccepted, domain.ERPRegistered, 0),
		mk("ta", "c1", "p7", domain.OrderRejected, domain.ERPNone, notOffered),
		mk("ta", "c2", "p8", domain.OrderCancelled, domain.ERPRefused, 4*time.Second),
		mk("ta", "c1", "p9", domain.OrderWaiting, domain.ERPNone, notOffered),
		mk("tb", "c9", "q1", domain.OrderAccepted, domain.ERPPending, -time.Hour),
		mk("tb", "c1", "q2", domain.OrderAccepted, domain.ERPPending, 2*time.Second),
	}
}

// expectOrders applies the contract's filter and order to the fixture.
func expectOrders(all []domain.OrderRecord, tenantID string, f store.OrderFilter) []domain.OrderRecord {
	var out []domain.OrderRecord
	for _, r := range all {
		if r.Tenant == tenantID && (f.ERPState == "" || r.ERP.State == f.ERPState) &&
			(f.State == "" || r.State == f.State) && (f.ConnectionID == "" || r.ConnectionID == f.ConnectionID) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b domain.OrderRecord) int {
		if f.ERPState != "" {
			if c := a.ERP.OfferedAt.Compare(*b.ERP.OfferedAt); c != 0 {
				return c
			}
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// listAll walks every page. The last page must say next == ""; an empty last page is
// allowed (a backend may not know a full page was the last), one more is not.
func listAll(t *testing.T, s store.Store, tenantID string, f store.OrderFilter, limit int) []domain.OrderRecord {
	t.Helper()
	c := ctx(t)
	var out []domain.OrderRecord
	seen := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		got, next, err := s.ListOrders(c, tenantID, f, cursor, limit)
		noErr(t, "list", err)
		if len(got) > limit {
			t.Fatalf("page %d has %d orders, limit %d", page, len(got), limit)
		}
		for _, r := range got {
			if seen[r.ID] {
				t.Fatalf("order %s listed twice", r.ID)
			}
			seen[r.ID] = true
		}
		out = append(out, got...)
		if next == "" {
			return out
		}
		if len(got) == 0 {
			t.Fatalf("page %d is empty but has a next cursor %q", page, next)
		}
		if page > 50 {
			t.Fatal("paging does not end")
		}
		cursor = next
	}
}

func idsOf(rs []domain.OrderRecord) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.PlatformID
	}
	return ids
}

func testListOrders(t *testing.T, s store.Store) {
	c := ctx(t)
	all := listFixture()
	for _, r := range all {
		noErr(t, "put "+r.PlatformID, s.PutOrder(c, store.OrderWrite{Record: r}))
	}
	cases := []struct {
		name   string
		tenant string
		f      store.OrderFilter
	}{
		{"all by id", "ta", store.OrderFilter{}},
		{"pending by offered_at then id", "ta", store.OrderFilter{ERPState: domain.ERPPending}},
		{"registered", "ta", store.OrderFilter{ERPState: domain.ERPRegistered}},
		{"state alone", "ta", store.OrderFilter{State: domain.OrderCancelled}},
		{"connection alone", "ta", store.OrderFilter{ConnectionID: "c1"}},
		{"pending on one connection", "ta", store.OrderFilter{ERPState: domain.ERPPending, ConnectionID: "c1"}},
		{"pending and accepted", "ta", store.OrderFilter{ERPState: domain.ERPPending, State: domain.OrderAccepted}},
		{"state and connection", "ta", store.OrderFilter{State: domain.OrderAccepted, ConnectionID: "c2"}},
		{"all three", "ta", store.OrderFilter{ERPState: domain.ERPPending, State: domain.OrderCancelled, ConnectionID: "c2"}},
		{"other tenant", "tb", store.OrderFilter{ERPState: domain.ERPPending}},
		{"other tenant on a shared connection id", "tb", store.OrderFilter{ConnectionID: "c1"}},
	}
	for _, tc := range cases {
		want := expectOrders(all, tc.tenant, tc.f)
		if len(want) == 0 {
			t.Fatalf("%s: the fixture has no match; the case tests nothing", tc.name)
		}
		for _, limit := range []int{100, 2, 1} {
			t.Run(fmt.Sprintf("%s/limit %d", tc.name, limit), func(t *testing.T) {
				got := listAll(t, s, tc.tenant, tc.f, limit)
				if strings.Join(idsOf(got), ",") != strings.Join(idsOf(want), ",") {
					t.Fatalf("got %v, want %v", idsOf(got), idsOf(want))
				}
				if limit == 100 {
					sameJSON(t, "listed orders", want, got)
				}
			})
		}
	}

	t.Run("one page says it is the last", func(t *testing.T) {
		got, next, err := s.ListOrders(c, "ta", store.OrderFilter{ERPState: domain.ERPRefused}, "", 10)
		noErr(t, "list", err)
		if len(got) != 1 || next != "" {
			t.Errorf("got %d orders, next %q; want 1 and \"\"", len(got), next)
		}
	})

	for _, tc := range []struct {
		name   string
		tenant string
		f      store.OrderFilter
	}{
		{"unknown connection", "ta", store.OrderFilter{ConnectionID: "c404"}},
		{"unknown tenant", "tz", store.OrderFilter{}},
		{"unknown tenant pending", "tz", store.OrderFilter{ERPState: domain.ERPPending}},
		{"no refused accepted order", "ta", store.OrderFilter{ERPState: domain.ERPRefused, State: domain.OrderAccepted}},
	} {
		t.Run("empty: "+tc.name, func(t *testing.T) {
			got, next, err := s.ListOrders(c, tc.tenant, tc.f, "", 10)
			noErr(t, "list", err)
			if len(got) != 0 || next != "" {
				t.Errorf("got %v next %q, want nothing and \"\"", idsOf(got), next)
			}
		})
	}

	t.Run("a garbage cursor is an error", func(t *testing.T) {
		// Cursors come back from API callers, so a backend must refuse, not guess.
		if _, _, err := s.ListOrders(c, "ta", store.OrderFilter{ERPState: domain.ERPPending}, "not a cursor!!", 2); err == nil {
			t.Error("garbage cursor accepted")
		}
	})

	t.Run("registered order leaves the pending listing", func(t *testing.T) {
		p1 := all[0]
		p1.Rev = 2
		p1.ERP = domain.ERPHandoff{State: domain.ERPRegistered, OrderNumber: "E-9", OfferedAt: p1.ERP.OfferedAt, AckedAt: timePtr(at.Add(time.Minute))}
		noErr(t, "ack", s.PutOrder(c, store.OrderWrite{Record: p1, ExpectedRev: 1}))
		all[0] = p1
		for _, f := range []store.OrderFilter{{ERPState: domain.ERPPending}, {ERPState: domain.ERPRegistered}} {
			want := expectOrders(all, "ta", f)
			got := listAll(t, s, "ta", f, 2)
			if strings.Join(idsOf(got), ",") != strings.Join(idsOf(want), ",") {
				t.Errorf("%s: got %v, want %v", f.ERPState, idsOf(got), idsOf(want))
			}
		}
	})
}
