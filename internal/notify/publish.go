package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/queue"
)

// TenantReader reads a tenant with its webhook endpoints.
type TenantReader interface {
	GetTenant(ctx context.Context, id string) (domain.Tenant, error)
}

// Sender is the sending half of a queue.Queue.
type Sender interface {
	Send(ctx context.Context, msgs ...queue.OutMessage) error
}

// Message is the queue body for one delivery of one event to one endpoint. It carries
// the event itself (events are immutable facts, unlike the push path's keys) but only
// the endpoint's id: URL, filter and secret are re-read at delivery time.
type Message struct {
	Tenant   string          `json:"tenant"`
	Endpoint string          `json:"endpoint"`
	EventID  string          `json:"event_id"`
	Type     string          `json:"type"`
	At       time.Time       `json:"at"`
	Data     json.RawMessage `json:"data,omitempty"`
}

// Publisher fans events out to a tenant's endpoints through a queue.
type Publisher struct {
	Tenants TenantReader
	Queue   Sender
	// Now stamps events that come without a time; nil means time.Now.
	Now func() time.Time
}

// Publish queues one message per (event, enabled endpoint subscribed to its type), all
// in one Send. A tenant without matching endpoints queues nothing.
func (p *Publisher) Publish(ctx context.Context, tenant string, events []domain.OrderEvent) error {
	if len(events) == 0 {
		return nil
	}
	t, err := p.Tenants.GetTenant(ctx, tenant)
	if err != nil {
		return fmt.Errorf("publish %d events for tenant %s: read tenant: %w", len(events), tenant, err)
	}
	var out []queue.OutMessage
	for _, ev := range events {
		if ev.ID == "" || ev.Type == "" {
			return fmt.Errorf("publish for tenant %s: event %q of type %q needs an id and a type", tenant, ev.ID, ev.Type)
		}
		at := ev.At
		if at.IsZero() {
			at = p.now()
		}
		for _, ep := range t.Endpoints {
			if !subscribed(ep, ev.Type) {
				continue
			}
			body, err := json.Marshal(Message{Tenant: tenant, Endpoint: ep.ID, EventID: ev.ID, Type: ev.Type, At: at.UTC(), Data: ev.Data})
			if err != nil {
				return fmt.Errorf("publish event %s for tenant %s: encode: %w", ev.ID, tenant, err)
			}
			// Group: on a FIFO queue each endpoint gets its events in order (accepted before
			// cancelled) and a failing endpoint holds back only its own; standard queues ignore it.
			out = append(out, queue.OutMessage{Body: body, Group: tenant + "|" + ep.ID, Key: ep.ID + "|" + ev.ID})
		}
	}
	if len(out) == 0 {
		return nil
	}
	if err := p.Queue.Send(ctx, out...); err != nil {
		return fmt.Errorf("publish %d events for tenant %s: %w", len(events), tenant, err)
	}
	return nil
}

func (p *Publisher) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// subscribed says whether ep takes events of type typ now.
func subscribed(ep domain.WebhookEndpoint, typ string) bool {
	if ep.Disabled || ep.ID == "" || ep.URL == "" {
		return false
	}
	return len(ep.Events) == 0 || slices.Contains(ep.Events, typ)
}

// endpoint finds an endpoint by id.
func endpoint(t domain.Tenant, id string) (domain.WebhookEndpoint, bool) {
	i := slices.IndexFunc(t.Endpoints, func(ep domain.WebhookEndpoint) bool { return ep.ID == id })
	if i < 0 {
		return domain.WebhookEndpoint{}, false
	}
	return t.Endpoints[i], true
}
