package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/ingest"
	"github.com/ponte-hub/ponte/internal/platform/platformsim"
	"github.com/ponte-hub/ponte/internal/store"
)

// ErrPolledPlatform: the orders scenario drives webhooks, and this platform sends none.
var ErrPolledPlatform = errors.New("the orders scenario needs a platform that sends order webhooks")

// RunOrders places o.Orders sales on random stores, posts their webhook deliveries to the
// hub (duplicates and out-of-order updates mixed in) and measures the acks, the stock drop
// on the other stores and that each platform order became exactly one hub order.
func RunOrders(ctx context.Context, o OrdersOptions, progress io.Writer) (OrdersReport, error) {
	if err := o.validate(); err != nil {
		return OrdersReport{}, err
	}
	so := Options{SKUs: o.SKUs, Stores: o.Stores, StoreRPM: o.StoreRPM, Platform: o.Platform, DataDir: o.DataDir}
	w, err := startWorld(ctx, so, func(w *world) error {
		if err := checkWebhooks(w); err != nil {
			return err
		}
		return loadERPStock(ctx, w, o)
	})
	if err != nil {
		return OrdersReport{}, err
	}
	defer w.Close()
	r := OrdersReport{Scenario: "orders", Platform: o.Platform, Backend: w.hub.Backend, Stores: o.Stores, SKUs: o.SKUs, Orders: o.Orders}

	fmt.Fprintf(progress, "orders: waiting for %d stores x %d SKUs to show %d\n", o.Stores, o.SKUs, o.Stock)
	if !waitSettled(ctx, w.hub, w.rec, w.stores, o.SKUs, func(int) int64 { return o.Stock }, o.Timeout) {
		return r, fmt.Errorf("orders: stores did not settle on the ERP stock within %s", o.Timeout)
	}
	w.rec.reset()
	before := callStats(w.sim, w.stores)

	orders, jobs, dups := ordersPlan(o)
	for _, bo := range orders {
		if bo.outOfOrder {
			r.OutOfOrderSent++
		}
	}
	c := &hookClient{w: w, o: o, http: &http.Client{Timeout: time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: 2 * o.Clients}}}
	fmt.Fprintf(progress, "orders: placing %d orders, posting their deliveries (%d duplicates, %d updates first) from %d clients\n",
		o.Orders, dups, r.OutOfOrderSent, o.Clients)
	start := time.Now()
	if err := c.run(ctx, jobs); err != nil {
		return r, err
	}
	r.PostSeconds = time.Since(start).Seconds()
	r.DeliveriesSent, r.DuplicatesSent = c.sent, dups

	perSKU := make([]int64, o.SKUs)
	for _, bo := range orders {
		perSKU[bo.sku]++
	}
	want := func(s int) int64 { return o.Stock - perSKU[s] }
	fmt.Fprintf(progress, "orders: posted in %.2f s; waiting for the orders and the stores to settle\n", r.PostSeconds)
	if !waitOrdersSettled(ctx, w, o, want) {
		fmt.Fprintf(progress, "orders: did not settle within %s\n", o.Timeout)
	}
	r.Seconds = time.Since(start).Seconds()
	fmt.Fprintf(progress, "orders: moving one order in ten to a later status and notifying again\n")
	su, err := runStatusUpdates(ctx, c, orders, o)
	if err != nil {
		return r, err
	}
	r.StatusUpdatesSent, r.StatusUpdatesIdentical, r.StatusUpdatesApplied = su.sent, su.identical, su.applied

	if r.OrdersCreated, r.OrdersAccepted, err = countOrders(ctx, w.hub.Store); err != nil {
		return r, err
	}
	if r.ReservedUnits, err = reservedUnits(ctx, w.hub.Store, o.SKUs); err != nil {
		return r, err
	}
	r.StaleFinal = w.rec.stale(w.stores, o.SKUs, want)
	var ackMs []float64
	for _, a := range c.acks {
		switch {
		case a.status == http.StatusTooManyRequests:
			r.Webhook429++
		case a.status/100 != 2:
			r.WebhookFailed++
		default:
			ackMs = append(ackMs, a.ms)
		}
	}
	r.AckP50Ms, r.AckP99Ms, r.AckMaxMs = summarize(ackMs)
	drops, missed := w.rec.drops(orders, w.stores, o.Stock)
	r.DropP50Ms, r.DropP99Ms, r.DropMaxMs = summarize(drops)
	r.DropMissed = missed
	r.RateLimited = callStats(w.sim, w.stores).limited - before.limited
	r.PeakRSSMB = peakRSSMB()
	return r, nil
}

// checkWebhooks refuses platforms whose sales reach the hub by polling (Mercos): a probe
// sale on a spare product says whether the platform delivers anything.
func checkWebhooks(w *world) error {
	st := w.stores[0]
	p, err := w.sim.NewProduct(st.id, "PROBE", 1, decimal.Zero)
	if err != nil {
		return fmt.Errorf("probe product: %w", err)
	}
	_, d, err := w.sim.(platformsim.OrderPlacer).PlaceOrder(st.id, platformsim.SimOrder{
		Lines: []platformsim.SimOrderLine{{Product: p, SKU: "PROBE", Quantity: 1, UnitPrice: decimal.NewFromInt(1)}}})
	if err != nil {
		return fmt.Errorf("probe order: %w", err)
	}
	if d.IsZero() {
		return fmt.Errorf("%s: %w (its orders are polled); try --platform tray", w.sim.Platform(), ErrPolledPlatform)
	}
	return nil
}

// loadERPStock gives every SKU the ERP level o.Stock, high enough that no sale is refused.
func loadERPStock(ctx context.Context, w *world, o OrdersOptions) error {
	var changes []ingest.Change
	for s := 0; s < o.SKUs; s++ {
		changes = append(changes, ingest.Change{Kind: ingest.KindStock, SKU: skuName(s), Version: 1,
			Stock: &domain.StockLevel{Warehouse: ingest.DefaultWarehouse, Quantity: o.Stock, Version: 1}})
		if len(changes) == ingest.MaxBatchChanges || s == o.SKUs-1 {
			if _, err := w.hub.Ingest.Apply(ctx, tenant, changes); err != nil {
				return fmt.Errorf("ERP stock: %w", err)
			}
			changes = changes[:0]
		}
	}
	return nil
}

// countOrders lists every order of the tenant, whatever its state.
func countOrders(ctx context.Context, st store.Store) (created, accepted int, err error) {
	cursor := ""
	for {
		page, next, err := st.ListOrders(ctx, tenant, store.OrderFilter{}, cursor, 500)
		if err != nil {
			return 0, 0, fmt.Errorf("list orders: %w", err)
		}
		for _, rec := range page {
			created++
			if rec.State == domain.OrderAccepted {
				accepted++
			}
		}
		if next == "" {
			return created, accepted, nil
		}
		cursor = next
	}
}

// reservedUnits sums the open reservations over the bench's SKUs.
func reservedUnits(ctx context.Context, st store.Store, skus int) (int64, error) {
	var total int64
	for from := 0; from < skus; from += 100 {
		var names []string
		for s := from; s < min(from+100, skus); s++ {
			names = append(names, skuName(s))
		}
		got, err := st.GetSKUs(ctx, tenant, names)
		if err != nil {
			return 0, fmt.Errorf("get skus: %w", err)
		}
		for _, s := range got {
			total += s.ReservedQuantity()
		}
	}
	return total, nil
}
