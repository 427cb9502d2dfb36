package fanout_test

import (
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
)

type coalescedRecorder []string

func (r *coalescedRecorder) Coalesced(stage, platform string) { *r = append(*r, stage+"/"+platform) }

// TestFanOutCountsCoalesced: a target whose store already holds the desired state is
// counted once per connection, and a target that needs a push is not.
func TestFanOutCountsCoalesced(t *testing.T) {
	f := newFixture(t)
	rec := &coalescedRecorder{}
	f.svc.Metrics = rec
	f.setSKU(t, 1, 10, "20.00")
	must(t, f.svc.FanOut(f.ctx, "t1", "A"))
	f.drain(t)
	if len(*rec) != 0 {
		t.Fatalf("first fan-out counted %v as coalesced", *rec)
	}
	for _, c := range []string{"plain", "markup"} {
		d, err := f.store.GetDesired(f.ctx, "t1", c, "A")
		must(t, err)
		must(t, f.store.PutPushed(f.ctx, domain.PushedState{Tenant: "t1", ConnectionID: c, SKU: "A", Stock: d.Stock,
			Price: d.Price, Cost: d.Cost, ListPrice: d.ListPrice, Product: d.Product, Rev: d.Rev, PushedAt: time.Now()}))
	}
	must(t, f.svc.FanOut(f.ctx, "t1", "A"))
	if got := *rec; len(got) != 2 || got[0] != "fanout/tray" || got[1] != "fanout/tray" {
		t.Fatalf("coalesced %v, want fanout/tray twice (plain and markup)", got)
	}
}
