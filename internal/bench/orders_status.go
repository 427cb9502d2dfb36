package bench

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform/platformsim"
)

// statusUpdates is the run's last phase: one order in ten moves through later statuses on
// the platform, which notifies each change as it does. On Tray the notification of every
// update has the same body; each must still reach the order.
type statusUpdates struct {
	sent, identical, applied int
}

// laterStatuses are, per platform, statuses after the first that its connector reports as
// given and the default status map still imports, in the order the bench applies them.
var laterStatuses = map[string][]string{
	"tray": {"AGUARDANDO PAGAMENTO", "A ENVIAR"}, "shopify": {"authorized"}, "woocommerce": {"on-hold"},
	"merchantpro": {"confirmed"}, "nuvemshop": {"authorized"},
}

// runStatusUpdates moves the chosen orders one status at a time, like a store whose
// orders change minutes apart: every order gets the status and its notification, then the
// round waits until the hub shows it on each order before the next status.
func runStatusUpdates(ctx context.Context, c *hookClient, orders []*benchOrder, o OrdersOptions) (statusUpdates, error) {
	var su statusUpdates
	placer := c.w.sim.(platformsim.OrderPlacer)
	var chosen []*benchOrder
	last := map[*benchOrder][]byte{}
	for i, bo := range orders {
		if i%10 == 0 && !bo.outOfOrder && len(bo.deliveries) > 0 {
			chosen = append(chosen, bo)
			last[bo] = bo.deliveries[len(bo.deliveries)-1].Body
		}
	}
	for round, status := range laterStatuses[o.Platform] {
		for _, bo := range chosen {
			st := c.w.stores[bo.store]
			// Seconds apart: platforms date changes to the second.
			so := platformsim.SimOrder{ID: bo.id, Status: status, UpdatedAt: time.Now().Add(time.Duration(2*(round+1)) * time.Second),
				Lines:    []platformsim.SimOrderLine{{Product: st.products[bo.sku], SKU: skuName(bo.sku), Quantity: 1, UnitPrice: unitPrice}},
				Customer: buyer(bo)}
			_, d, err := placer.PlaceOrder(st.id, so)
			if err != nil {
				return su, fmt.Errorf("update order %s on %s: %w", bo.id, st.id, err)
			}
			if bytes.Equal(d.Body, last[bo]) {
				su.identical++
			}
			last[bo] = d.Body
			if err := c.post(ctx, bo, d); err != nil {
				return su, err
			}
			su.sent++
		}
		n, err := waitStatus(ctx, c, chosen, status, o)
		su.applied += n
		if err != nil || n < len(chosen) {
			return su, err
		}
	}
	return su, nil
}

// waitStatus counts the orders whose hub record shows status, waiting for all of them
// up to the run's timeout.
func waitStatus(ctx context.Context, c *hookClient, chosen []*benchOrder, status string, o OrdersOptions) (int, error) {
	deadline := time.Now().Add(o.Timeout)
	for {
		n := 0
		for _, bo := range chosen {
			rec, err := c.w.hub.Store.GetOrder(ctx, tenant, domain.OrderID(connectionID(o.Platform, bo.store), bo.id))
			if err == nil && rec.PlatformStatus == status {
				n++
			}
		}
		if n == len(chosen) || time.Now().After(deadline) {
			return n, nil
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
