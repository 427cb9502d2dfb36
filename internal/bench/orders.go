package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// OrdersOptions shape an orders run (issue 4's bench): sales on random stores delivered
// to the hub's webhook route, with duplicates and out-of-order updates mixed in.
type OrdersOptions struct {
	Orders int
	SKUs   int
	Stores int
	// DuplicatePct re-posts this share of deliveries, half alongside the original, half later.
	DuplicatePct int
	// OutOfOrderPct of orders get an orders/updated-style delivery posted before their first.
	OutOfOrderPct int
	Clients       int
	// Stock is every SKU's ERP level: high, so no order is refused for stock.
	Stock    int64
	StoreRPM int
	Platform string
	DataDir  string
	Seed     int64
	Timeout  time.Duration
}

// OrdersDefaults: 2,000 orders over 200 SKUs and 3 stores, 20% duplicates.
var OrdersDefaults = OrdersOptions{Orders: 2_000, SKUs: 200, Stores: 3, DuplicatePct: 20, OutOfOrderPct: 10,
	Clients: 8, Stock: 1_000_000, StoreRPM: 600_000, Platform: "tray", Seed: 1, Timeout: 5 * time.Minute}

// OrdersReport is the outcome of an orders run.
type OrdersReport struct {
	Scenario string `json:"scenario"`
	Platform string `json:"platform"`
	Backend  string `json:"backend"`
	Stores   int    `json:"stores"`
	SKUs     int    `json:"skus"`
	// Orders is the number of distinct platform orders placed.
	Orders         int `json:"orders"`
	DeliveriesSent int `json:"deliveries_sent"`
	DuplicatesSent int `json:"duplicates_sent"`
	OutOfOrderSent int `json:"out_of_order_sent"`
	// StatusUpdatesSent orders moved to a later status afterwards, each notified again;
	// StatusUpdatesIdentical of those notifications had the same body as the order's
	// first (thin platforms); StatusUpdatesApplied is how many orders show the new status.
	StatusUpdatesSent      int `json:"status_updates_sent"`
	StatusUpdatesIdentical int `json:"status_updates_identical"`
	StatusUpdatesApplied   int `json:"status_updates_applied"`
	// WebhookFailed counts answers other than 2xx and 429 (each is retried like a platform would).
	WebhookFailed int `json:"webhook_failed"`
	// Webhook429 counts 429 answers from the hub's webhook route.
	Webhook429     int   `json:"webhook_429"`
	OrdersCreated  int   `json:"orders_created"`
	OrdersAccepted int   `json:"orders_accepted"`
	ReservedUnits  int64 `json:"reserved_units"`
	// StaleFinal counts (store, SKU) pairs not showing ERP stock minus the SKU's orders at the end.
	StaleFinal int     `json:"stale_final"`
	AckP50Ms   float64 `json:"ack_p50_ms"`
	AckP99Ms   float64 `json:"ack_p99_ms"`
	AckMaxMs   float64 `json:"ack_max_ms"`
	// Drop: from an order's first webhook POST until each other store shows the reservation.
	DropP50Ms   float64 `json:"drop_p50_ms"`
	DropP99Ms   float64 `json:"drop_p99_ms"`
	DropMaxMs   float64 `json:"drop_max_ms"`
	DropMissed  int     `json:"drop_missed"`
	RateLimited int64   `json:"rate_limited_429"`
	Seconds     float64 `json:"seconds"`
	PostSeconds float64 `json:"post_s"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`
}

// Check is the run's verdict: one order per distinct platform order, each holding its unit.
func (r OrdersReport) Check() error {
	var errs []error
	if r.OrdersCreated != r.Orders {
		errs = append(errs, fmt.Errorf("orders created %d, want %d (one per distinct platform order)", r.OrdersCreated, r.Orders))
	}
	if r.StatusUpdatesApplied != r.StatusUpdatesSent {
		errs = append(errs, fmt.Errorf("status updates applied %d, want %d (every notification reaches its order)", r.StatusUpdatesApplied, r.StatusUpdatesSent))
	}
	if r.ReservedUnits != int64(r.OrdersAccepted) {
		errs = append(errs, fmt.Errorf("reserved units %d, want %d (accepted orders x 1)", r.ReservedUnits, r.OrdersAccepted))
	}
	return errors.Join(errs...)
}

// Print writes the table and, as the last line, the JSON object.
func (r OrdersReport) Print(w io.Writer) {
	rows := [][2]string{
		{"backend / platform", r.Backend + " / " + r.Platform},
		{"orders x stores (skus)", fmt.Sprintf("%d x %d (%d)", r.Orders, r.Stores, r.SKUs)},
		{"deliveries sent (dups, out of order)", fmt.Sprintf("%d (%d, %d)", r.DeliveriesSent, r.DuplicatesSent, r.OutOfOrderSent)},
		{"status updates sent / identical / applied", fmt.Sprintf("%d / %d / %d", r.StatusUpdatesSent, r.StatusUpdatesIdentical, r.StatusUpdatesApplied)},
		{"webhook failed / 429", fmt.Sprintf("%d / %d", r.WebhookFailed, r.Webhook429)},
		{"orders created / accepted", fmt.Sprintf("%d / %d", r.OrdersCreated, r.OrdersAccepted)},
		{"reserved units", fmt.Sprintf("%d", r.ReservedUnits)},
		{"webhook ack p50 / p99 / max", fmt.Sprintf("%.1f / %.1f / %.1f ms", r.AckP50Ms, r.AckP99Ms, r.AckMaxMs)},
		{"drop on other stores p50 / p99 / max", fmt.Sprintf("%.1f / %.1f / %.1f ms", r.DropP50Ms, r.DropP99Ms, r.DropMaxMs)},
		{"drops never seen", fmt.Sprintf("%d", r.DropMissed)},
		{"stale values at the end", fmt.Sprintf("%d", r.StaleFinal)},
		{"platform 429 answers", fmt.Sprintf("%d", r.RateLimited)},
		{"posted in / settled after", fmt.Sprintf("%.2f s / %.2f s", r.PostSeconds, r.Seconds)},
		{"peak RSS", fmt.Sprintf("%.0f MB", r.PeakRSSMB)},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "%-40s %s\n", row[0], row[1])
	}
	b, _ := json.Marshal(r)
	fmt.Fprintln(w, string(b))
}

// validate checks the options before anything starts.
func (o OrdersOptions) validate() error {
	switch {
	case o.Orders < 1 || o.SKUs < 1 || o.Stores < 1 || o.Clients < 1:
		return errors.New("options: need orders, skus, stores and clients >= 1")
	case o.DuplicatePct < 0 || o.OutOfOrderPct < 0 || o.OutOfOrderPct > 100:
		return errors.New("options: dup-pct >= 0 and 0 <= ooo-pct <= 100")
	case o.Stock < int64(o.Orders):
		return fmt.Errorf("options: stock %d below %d orders would refuse sales", o.Stock, o.Orders)
	}
	return nil
}
