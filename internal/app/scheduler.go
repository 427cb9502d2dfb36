package app

import (
	"context"
	"time"
)

// Schedule sets how often the local scheduler runs each periodic job; the deploy stacks
// use EventBridge Scheduler for the same jobs.
type Schedule struct {
	// OrderPoll takes orders from polled platforms and sweeps unprocessed deliveries.
	OrderPoll time.Duration
	// Reconcile checks which connections are due (each has its own reconcile_interval)
	// and runs them; a crashed run is resumed. First syncs waiting for a worker or
	// crashed are worked on the same tick (and at once when the API starts one).
	Reconcile time.Duration
	// Purge deletes history past its retention (PONTE_RETENTION) from the embedded
	// store, in bounded batches; DynamoDB does it by TTL.
	Purge time.Duration
}

// DefaultSchedule suits the demo and small merchants.
var DefaultSchedule = Schedule{OrderPoll: 15 * time.Second, Reconcile: time.Minute, Purge: time.Hour}

// RunScheduler runs the periodic jobs of `ponte serve` until ctx ends: the first round at
// once (a restart picks up what a crash left), then on every tick. A failing job is
// logged and tried again at the next tick.
func (h *Hub) RunScheduler(ctx context.Context, s Schedule) {
	if s.OrderPoll <= 0 {
		s.OrderPoll = DefaultSchedule.OrderPoll
	}
	if s.Reconcile <= 0 {
		s.Reconcile = DefaultSchedule.Reconcile
	}
	if s.Purge <= 0 {
		s.Purge = DefaultSchedule.Purge
	}
	go every(ctx, s.Purge, h.purgeExpired)
	go every(ctx, s.Reconcile, h.reconcileDue)
	go h.runFirstSyncs(ctx, s.Reconcile)
	every(ctx, s.OrderPoll, h.pollOrders)
}

// every runs job at once and then on every tick until ctx ends.
func every(ctx context.Context, d time.Duration, job func(context.Context)) {
	tick := time.NewTicker(d)
	defer tick.Stop()
	for {
		job(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (h *Hub) reconcileDue(ctx context.Context) {
	if _, err := h.Reconcile.RunDue(ctx); err != nil && ctx.Err() == nil {
		h.Log.Warn("scheduled reconciliation: some connections failed", "err", err)
	}
}

func (h *Hub) pollOrders(ctx context.Context) {
	if n, err := h.Orders.Sweep(ctx); err != nil && ctx.Err() == nil {
		h.Log.Error("order sweep failed", "err", err)
	} else if n > 0 {
		h.Log.Info("order sweep re-queued deliveries", "count", n)
	}
	if _, err := h.Orders.PollAll(ctx); err != nil && ctx.Err() == nil {
		h.Log.Error("order polling failed", "err", err)
	}
}
