package orders

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// pollingPlatform is testPlatform that also lists orders (the safety-net poll).
type pollingPlatform struct {
	*testPlatform
	polls  int
	failed []platform.FailedOrder
}

func (p *pollingPlatform) PollOrders(_ context.Context, _ domain.Connection, cursor string) (platform.OrderPage, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.polls++
	var out []domain.Order
	for _, o := range p.orders {
		out = append(out, o)
	}
	return platform.OrderPage{Orders: out, Failed: p.failed, Next: cursor}, nil
}

// TestOrderAPollCannotReadIsFetchedOnItsOwn: a poll page's unreadable order does not stop
// the others; it is read again through FetchOrder and, failing, waits in the inbox.
func TestOrderAPollCannotReadIsFetchedOnItsOwn(t *testing.T) {
	h := newHarness(t, domain.Rules{})
	pp := &pollingPlatform{testPlatform: h.plat, failed: []platform.FailedOrder{{PlatformID: "9102", Reason: "field total: missing"},
		{PlatformID: "9103", Reason: "field lines[0].price: not a number"}}}
	h.svc.Connectors["testplat"] = pp
	h.setPlatformOrder(order("9101", "paid", t0, line("P-A", "", 1)))
	h.setPlatformOrder(order("9102", "paid", t0, line("P-A", "", 1))) // readable on its own: a passing failure
	if _, err := h.svc.PollAll(ctx(t)); err != nil {
		t.Fatal(err)
	}
	var dead []string
	for range 10 {
		msgs, err := h.orders.Receive(ctx(t), 10, 50*time.Millisecond)
		must(t, err)
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			if err := h.svc.Handle(ctx(t), m); err != nil {
				dead = append(dead, err.Error())
			}
			must(t, h.orders.Delete(ctx(t), m.Receipt))
		}
	}
	for _, id := range []string{"9101", "9102"} {
		if rec := h.record(id); rec.State != domain.OrderAccepted {
			t.Fatalf("order %s: %s", id, rec.State)
		}
	}
	if len(dead) != 1 || !strings.Contains(dead[0], "9103") {
		t.Fatalf("failures %v; want the unreadable order 9103 named", dead)
	}
}

func TestPollPaceFollowsTheSetting(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]string
		at       []time.Duration // PollAll calls, after t0
		want     int
	}{
		{"safety net every 5 minutes by default", nil, []time.Duration{0, time.Minute, 4 * time.Minute, 5 * time.Minute, 6 * time.Minute}, 2},
		{"every tick when set to 0s", map[string]string{SettingOrderPollInterval: "0s"}, []time.Duration{0, time.Second, 2 * time.Second}, 3},
		{"every 30 s when set", map[string]string{SettingOrderPollInterval: "30s"}, []time.Duration{0, 10 * time.Second, 31 * time.Second}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, domain.Rules{})
			pp := &pollingPlatform{testPlatform: h.plat}
			h.svc.Connectors["testplat"] = pp
			h.conn.Settings = tc.settings
			must(t, h.st.PutConnection(ctx(t), h.conn))
			var mu sync.Mutex
			now := t0
			h.svc.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			h.setPlatformOrder(order("9001", "paid", t0, line("P-A", "", 1)))
			for _, at := range tc.at {
				mu.Lock()
				now = t0.Add(at)
				mu.Unlock()
				if _, err := h.svc.PollAll(ctx(t)); err != nil {
					t.Fatal(err)
				}
			}
			if pp.polls != tc.want {
				t.Fatalf("%d polls, want %d", pp.polls, tc.want)
			}
			h.drain()
			if rec := h.record("9001"); rec.State != domain.OrderAccepted {
				t.Fatalf("polled order state %s", rec.State)
			}
		})
	}
}

func TestValidatePollSettings(t *testing.T) {
	tests := []struct {
		settings map[string]string
		field    string
	}{
		{map[string]string{SettingOrderPollInterval: "5m", SettingOrdersSince: "2026-01-01T00:00:00Z"}, ""},
		{map[string]string{SettingOrderPollInterval: "five"}, SettingOrderPollInterval},
		{map[string]string{SettingOrderPollInterval: "-1m"}, SettingOrderPollInterval},
		{map[string]string{SettingOrderPollInterval: "48h"}, SettingOrderPollInterval},
		{map[string]string{SettingOrdersSince: "yesterday"}, SettingOrdersSince},
	}
	for _, tc := range tests {
		err := ValidatePollSettings(domain.Connection{Settings: tc.settings})
		if tc.field == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.settings, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), tc.field+":") {
			t.Errorf("%v: %v, want an error naming %s", tc.settings, err, tc.field)
		}
	}
}
