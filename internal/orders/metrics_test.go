package orders

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

type metricsLog struct {
	mu       sync.Mutex
	webhooks []string
	states   []string
}

func (m *metricsLog) Webhook(platform, outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.webhooks = append(m.webhooks, platform+"/"+outcome)
}

func (m *metricsLog) OrderState(platform string, state domain.OrderState, rs []domain.OrderRejection) {
	m.mu.Lock()
	defer m.mu.Unlock()
	codes := make([]string, len(rs))
	for i, r := range rs {
		codes[i] = r.Code
	}
	m.states = append(m.states, platform+"/"+string(state)+"/"+strings.Join(codes, ","))
}

func TestWebhookOutcomeMetrics(t *testing.T) {
	h := newHarness(t, domain.Rules{})
	m := &metricsLog{}
	h.svc.Metrics = m
	thin := h.delivery(map[string]any{"id": "9001"})
	good := h.delivery(map[string]any{"id": "9001", "order": order("9001", "paid", t0, line("P-A", "", 1))})
	bad := good
	bad.Body = append([]byte(nil), good.Body...)
	bad.Body[2] ^= 1
	ping := h.delivery(map[string]any{})
	tests := []struct {
		platform, conn string
		req            platform.WebhookRequest
		want           string
	}{
		{"testplat", "c1", good, "testplat/stored"},
		{"testplat", "c1", good, "testplat/duplicate"},
		// A thin notification is never a duplicate: the same ids may announce a new change.
		{"testplat", "c1", thin, "testplat/stored"},
		{"testplat", "c1", thin, "testplat/stored"},
		{"testplat", "c1", bad, "testplat/bad_signature"},
		{"testplat", "nope", good, "testplat/unknown_connection"},
		{"made-up-platform", "c1", good, "unknown/unknown_connection"}, // URL names never become labels
		{"testplat", "c1", ping, "testplat/ignored"},
	}
	for i, tc := range tests {
		_, _ = h.svc.Receive(ctx(t), tc.platform, tc.conn, tc.req)
		if len(m.webhooks) != i+1 || m.webhooks[i] != tc.want {
			t.Fatalf("delivery %d recorded %v, want %s last", i, m.webhooks, tc.want)
		}
	}
}

func TestOrderStateMetrics(t *testing.T) {
	h := newHarness(t, domain.Rules{})
	m := &metricsLog{}
	h.svc.Metrics = m
	h.deliver(order("5001", "paid", t0, line("P-A", "", 1)))
	h.deliver(order("5002", "paid", t0, line("", "B", 2)))
	h.drain()
	h.deliver(order("5001", "paid", t0.Add(1), line("P-A", "", 1))) // same state again: not counted
	h.drain()
	slices.Sort(m.states)
	want := []string{"testplat/accepted/", "testplat/rejected/" + domain.RejectNoStock}
	if !slices.Equal(m.states, want) {
		t.Fatalf("states %v, want %v", m.states, want)
	}
}

// The ERP's refusal and cancel move orders too, and count like the platform's moves.
func TestERPSideStateMetrics(t *testing.T) {
	h := newHarness(t, domain.Rules{})
	m := &metricsLog{}
	refused := acceptedOrder(t, h, "A1", 1)
	cancelled := acceptedOrder(t, h, "A2", 1)
	h.svc.Metrics = m
	if _, err := h.svc.Ack(ctx(t), "t1", refused.ID, Ack{Rejected: true, Reason: "customer blocked"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Ack(ctx(t), "t1", refused.ID, Ack{Rejected: true, Reason: "customer blocked"}); err != nil {
		t.Fatal(err) // a repeat writes nothing and counts nothing
	}
	if errs := h.svc.ApplyStatus(ctx(t), "t1", []domain.OrderStatusChange{{OrderID: cancelled.ID, Status: domain.FulfilCancelled, Version: 1}}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	want := []string{"testplat/rejected/" + domain.RejectERPRefused, "testplat/cancelled/"}
	if !slices.Equal(m.states, want) {
		t.Fatalf("states %v, want %v", m.states, want)
	}
}
