package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/queue"
	qsqlite "github.com/ponte-hub/ponte/internal/queue/sqlite"
	"github.com/ponte-hub/ponte/internal/store"
)

// tenants is a map-backed TenantReader (the store adapters have their own suite).
type tenants map[string]domain.Tenant

func (m tenants) GetTenant(_ context.Context, id string) (domain.Tenant, error) {
	t, ok := m[id]
	if !ok {
		return domain.Tenant{}, fmt.Errorf("tenant %s: %w", id, store.ErrNotFound)
	}
	return t, nil
}

func openQueue(t *testing.T, fifo bool) *qsqlite.Queue {
	t.Helper()
	b, err := qsqlite.OpenBroker(context.Background(), filepath.Join(t.TempDir(), "queue.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	q, err := b.Queue("webhooks", qsqlite.Config{FIFO: fifo, VisibilityTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// drain receives everything waiting and returns the messages by "endpoint|event".
func drain(t *testing.T, q queue.Queue) map[string]Message {
	t.Helper()
	got := map[string]Message{}
	for {
		msgs, err := q.Receive(context.Background(), 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			return got
		}
		for _, qm := range msgs {
			var m Message
			if err := json.Unmarshal(qm.Body, &m); err != nil {
				t.Fatal(err)
			}
			if want := m.Tenant + "|" + m.Endpoint; qm.Group != want {
				t.Errorf("group %q, want %q", qm.Group, want)
			}
			got[m.Endpoint+"|"+m.EventID] = m
			if err := q.Delete(context.Background(), qm.Receipt); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestPublish(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := now.Add(-time.Minute)
	accepted := domain.OrderEvent{ID: "ev1", Type: "order.accepted", At: at, Data: json.RawMessage(`{"id":"ord_1"}`)}
	cancelled := domain.OrderEvent{ID: "ev2", Type: "order.cancelled", At: at, Data: json.RawMessage(`{"id":"ord_1"}`)}
	endpoints := []domain.WebhookEndpoint{
		{ID: "all", URL: "https://a.example/hook", SecretRef: "s"},
		{ID: "cancels", URL: "https://b.example/hook", SecretRef: "s", Events: []string{"order.cancelled"}},
		{ID: "off", URL: "https://c.example/hook", SecretRef: "s", Disabled: true},
		{ID: "erp", URL: "https://erp.example/orders", SecretRef: "s", ERPOrders: true, Events: []string{"order.accepted", "order.cancelled"}},
	}
	tests := []struct {
		name      string
		endpoints []domain.WebhookEndpoint
		events    []domain.OrderEvent
		twice     bool
		want      []string
	}{
		{"filters and disabled", endpoints, []domain.OrderEvent{accepted, cancelled}, false,
			[]string{"all|ev1", "all|ev2", "cancels|ev2", "erp|ev1", "erp|ev2"}},
		{"empty filter takes all", endpoints[:1], []domain.OrderEvent{{ID: "ev3", Type: "order.shipped", At: at}}, false,
			[]string{"all|ev3"}},
		{"publishing again coalesces while waiting", endpoints, []domain.OrderEvent{accepted}, true,
			[]string{"all|ev1", "erp|ev1"}},
		{"no subscriber sends nothing", endpoints[1:3], []domain.OrderEvent{accepted}, false, nil},
		{"no endpoints", nil, []domain.OrderEvent{accepted}, false, nil},
	}
	for _, tt := range tests {
		for _, fifo := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fifo=%t", tt.name, fifo), func(t *testing.T) {
				q := openQueue(t, fifo)
				p := &Publisher{Tenants: tenants{"t1": {ID: "t1", Endpoints: tt.endpoints}}, Queue: q, Now: func() time.Time { return now }}
				for range 1 + btoi(tt.twice) {
					if err := p.Publish(context.Background(), "t1", tt.events); err != nil {
						t.Fatal(err)
					}
				}
				got := drain(t, q)
				keys := make([]string, 0, len(got))
				for k := range got {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				if !slices.Equal(keys, tt.want) {
					t.Fatalf("queued %v, want %v", keys, tt.want)
				}
				for _, m := range got {
					if m.Tenant != "t1" || !m.At.Equal(at) || m.Type == "" {
						t.Errorf("message %+v", m)
					}
				}
			})
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestPublishMessageShape(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	q := openQueue(t, false)
	p := &Publisher{Tenants: tenants{"t1": {ID: "t1", Endpoints: []domain.WebhookEndpoint{{ID: "e", URL: "https://x.example", SecretRef: "s"}}}},
		Queue: q, Now: func() time.Time { return now }}
	// No time on the event: it is stamped with Now.
	ev := domain.OrderEvent{ID: "ev1", Type: "order.accepted", Data: json.RawMessage(`{"id":"ord_1","n":1}`)}
	if err := p.Publish(context.Background(), "t1", []domain.OrderEvent{ev}); err != nil {
		t.Fatal(err)
	}
	m := drain(t, q)["e|ev1"]
	if !m.At.Equal(now) || string(m.Data) != `{"id":"ord_1","n":1}` || m.Type != "order.accepted" {
		t.Fatalf("message %+v", m)
	}
}

func TestPublishErrors(t *testing.T) {
	q := openQueue(t, false)
	p := &Publisher{Tenants: tenants{"t1": {ID: "t1"}}, Queue: q}
	tests := []struct {
		name   string
		tenant string
		events []domain.OrderEvent
		is     error
	}{
		{"unknown tenant", "nope", []domain.OrderEvent{{ID: "e", Type: "order.accepted"}}, store.ErrNotFound},
		{"event without id", "t1", []domain.OrderEvent{{Type: "order.accepted"}}, nil},
		{"event without type", "t1", []domain.OrderEvent{{ID: "e"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Publish(context.Background(), tt.tenant, tt.events)
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Fatalf("Publish = %v, want an error (is %v)", err, tt.is)
			}
		})
	}
}
