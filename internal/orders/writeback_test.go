package orders

import (
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

func (h *harness) writtenStatuses() []string {
	h.plat.mu.Lock()
	defer h.plat.mu.Unlock()
	var out []string
	for _, u := range h.plat.written {
		out = append(out, u.PlatformStatus)
	}
	return out
}

// TestRejectionIsWrittenBackWhenMapped: the hub's and the ERP's refusals both reach the
// platform through the status map's write_back.rejected, and nothing is written without it.
func TestRejectionIsWrittenBackWhenMapped(t *testing.T) {
	mapped := domain.Rules{StatusMap: domain.StatusMap{WriteBack: map[string]string{domain.HubRejected: "CANCELADO"}}}
	tests := []struct {
		name  string
		rules domain.Rules
		erp   bool // refused by the ERP instead of by the hub's rules
		want  string
	}{
		{"hub rejects, mapped", mapped, false, "CANCELADO"},
		{"ERP refuses, mapped", mapped, true, "CANCELADO"},
		{"hub rejects, not mapped", domain.Rules{}, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.rules)
			qty := int64(50) // more than the 10 in stock: the hub rejects
			if tc.erp {
				qty = 1
			}
			h.deliver(order("8001", "paid", t0, line("P-A", "", qty)))
			h.drain()
			if tc.erp {
				_, err := h.svc.Ack(ctx(t), "t1", h.record("8001").ID, Ack{Rejected: true, Reason: "customer blocked"})
				must(t, err)
				h.drain()
			}
			if rec := h.record("8001"); rec.State != domain.OrderRejected {
				t.Fatalf("state %s", rec.State)
			}
			got := strings.Join(h.writtenStatuses(), ",")
			if got != tc.want {
				t.Fatalf("written %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCancelledBeforeTheERPTookItLeavesThePendingFeed: an accepted order the platform
// cancels before the ERP pulled it is no longer offered.
func TestCancelledBeforeTheERPTookItLeavesThePendingFeed(t *testing.T) {
	h := newHarness(t, domain.Rules{})
	h.deliver(order("8002", "paid", t0, line("P-A", "", 1)))
	h.drain()
	pending := func() int {
		list, _, err := h.svc.ListForERP(ctx(t), "t1", store.OrderFilter{ERPState: domain.ERPPending}, "", 50)
		must(t, err)
		return len(list)
	}
	if n := pending(); n != 1 {
		t.Fatalf("%d pending, want 1", n)
	}
	h.deliver(order("8002", "cancelled", t0.Add(time.Minute), line("P-A", "", 1)))
	h.drain()
	if n := pending(); n != 0 {
		t.Fatalf("%d pending after the cancel, want 0", n)
	}
	if rec := h.record("8002"); rec.ERP.State != domain.ERPWithdrawn || rec.State != domain.OrderCancelled {
		t.Fatalf("record %s/%s", rec.State, rec.ERP.State)
	}
}

// TestRejectionNamesTheMissedMapping: a line whose platform product has no mapping and
// whose own SKU is unknown blames the mapping, not only the catalogue.
func TestRejectionNamesTheMissedMapping(t *testing.T) {
	h := newHarness(t, domain.Rules{})
	l := line("P-UNMAPPED", "SHOP-SKU", 1)
	l.VariantID = "V-9"
	h.deliver(order("8003", "paid", t0, l))
	h.drain()
	rec := h.record("8003")
	if len(rec.Rejections) != 1 || !strings.Contains(rec.Rejections[0].Message, "no mapping on connection c1 for platform product P-UNMAPPED/V-9") {
		t.Fatalf("rejections %+v", rec.Rejections)
	}
}
