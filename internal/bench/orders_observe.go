package bench

import (
	"context"
	"sort"
	"time"
)

// waitOrdersSettled waits until every store shows the wanted levels and every queue,
// the orders queue included, is empty.
func waitOrdersSettled(ctx context.Context, w *world, o OrdersOptions, want func(int) int64) bool {
	deadline := time.Now().Add(o.Timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if w.rec.stale(w.stores, o.SKUs, want) == 0 && queuesEmpty(ctx, w.hub) {
			st, err := w.hub.OrderQueue.Stats(ctx)
			if err == nil && st.Waiting+st.InFlight == 0 {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// drops measures, for each order and each store other than the one that sold it, the time
// from the order's first webhook POST until a hub push left that store at or below the
// SKU's level after this order: ERP stock minus the orders of that SKU posted up to and
// including it. Orders of one SKU are reserved concurrently, so the level is what the
// store must reach, not which order's reservation got it there. missed counts pairs that
// never reached it.
func (r *recorder) drops(orders []*benchOrder, stores []benchStore, stock int64) (ms []float64, missed int) {
	bySKU := map[int][]*benchOrder{}
	for _, bo := range orders {
		bySKU[bo.sku] = append(bySKU[bo.sku], bo)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for sku, list := range bySKU {
		sort.SliceStable(list, func(i, j int) bool { return list[i].firstPost.Before(list[j].firstPost) })
		for k, bo := range list {
			level := stock - int64(k+1)
			for si, st := range stores {
				if si == bo.store {
					continue
				}
				reached := false
				for _, wr := range r.writes[st.id][st.products[sku]] {
					if !wr.sale && wr.value <= level {
						ms = append(ms, float64(max(wr.at.Sub(bo.firstPost), 0).Microseconds())/1000)
						reached = true
						break
					}
				}
				if !reached {
					missed++
				}
			}
		}
	}
	return ms, missed
}
