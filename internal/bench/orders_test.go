package bench

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

// TestRunOrdersOnePerPlatformOrder: a small run on the embedded hub with simulated Tray
// stores makes exactly one hub order per distinct platform order, whatever the duplicates
// and out-of-order updates, each holding its one unit.
func TestRunOrdersOnePerPlatformOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole local hub")
	}
	o := OrdersDefaults
	o.Orders, o.Stores, o.SKUs, o.Clients, o.DuplicatePct, o.OutOfOrderPct = 50, 2, 20, 4, 40, 30
	o.Stock, o.Timeout, o.DataDir = 1_000, time.Minute, t.TempDir()
	r, err := RunOrders(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"orders created", r.OrdersCreated, o.Orders},
		{"orders accepted", r.OrdersAccepted, o.Orders},
		{"reserved units", int(r.ReservedUnits), o.Orders},
		{"deliveries sent", r.DeliveriesSent, o.Orders + r.OutOfOrderSent + r.DuplicatesSent},
		{"webhook failures", r.WebhookFailed, 0},
		{"stale values at the end", r.StaleFinal, 0},
		{"drops never seen", r.DropMissed, 0},
		// Tray notifies every update of an order with the same body: each must still land.
		{"identical status notifications", r.StatusUpdatesIdentical, r.StatusUpdatesSent / 2},
		{"status updates applied", r.StatusUpdatesApplied, r.StatusUpdatesSent},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
	if r.StatusUpdatesSent == 0 {
		t.Error("the run sent no status updates")
	}
	if r.DuplicatesSent == 0 || r.OutOfOrderSent == 0 {
		t.Errorf("the run sent %d duplicates and %d out-of-order updates; both should be exercised", r.DuplicatesSent, r.OutOfOrderSent)
	}
}

// TestRunOrdersRefusesPolledPlatforms: Mercos sends no order webhook, so there is nothing
// to bench and the error says so.
func TestRunOrdersRefusesPolledPlatforms(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole local hub")
	}
	o := OrdersDefaults
	o.Platform, o.Orders, o.Stores, o.SKUs, o.DataDir = "mercos", 5, 1, 2, t.TempDir()
	if _, err := RunOrders(context.Background(), o, io.Discard); !errors.Is(err, ErrPolledPlatform) {
		t.Fatalf("err = %v, want ErrPolledPlatform", err)
	}
}

func TestOrdersPlan(t *testing.T) {
	for _, tc := range []struct {
		name             string
		orders, dup, ooo int
	}{
		{"no extras", 100, 0, 0},
		{"defaults", 2000, 20, 10},
		{"every order updated", 30, 50, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := OrdersDefaults
			o.Orders, o.DuplicatePct, o.OutOfOrderPct = tc.orders, tc.dup, tc.ooo
			orders, jobs, dups := ordersPlan(o)
			deliveries, alongside, late := 0, 0, 0
			seen := map[*benchOrder]bool{}
			for _, bo := range orders {
				deliveries++
				if bo.outOfOrder {
					deliveries++
				}
				alongside += len(bo.alongside)
			}
			for _, j := range jobs {
				if j.late {
					late++
					if !seen[j.order] {
						t.Fatalf("late duplicate of order %d queued before the order itself", j.order.n)
					}
					continue
				}
				seen[j.order] = true
			}
			if dups != deliveries*tc.dup/100 || alongside+late != dups {
				t.Errorf("dups %d (alongside %d + late %d), want %d", dups, alongside, late, deliveries*tc.dup/100)
			}
			if len(seen) != tc.orders {
				t.Errorf("%d orders queued, want %d", len(seen), tc.orders)
			}
		})
	}
}

func TestCPFCheckDigits(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "10000000019"},
		{390_533_447 - 100_000_000, "39053344705"},
	} {
		if got := cpf(tc.n); got != tc.want {
			t.Errorf("cpf(%d) = %s, want %s", tc.n, got, tc.want)
		}
	}
}
