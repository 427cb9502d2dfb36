package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/queue"
)

// LatencyBuckets suit the push latency: the aim is well under a second, the seeds
// settle for a minute, and a rate-limited store can take several.
var LatencyBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}

// Ponte records the hub's own metrics; it fits the Metrics ports of push, fanout and
// orders. Labels are platforms, connections, queues, kinds and codes, never SKUs or
// order ids, so the number of series stays bounded by the configuration.
type Ponte struct {
	Now func() time.Time

	pushLatency   *Histogram
	pushCalls     *Counter
	pushFailures  *Counter
	rateLimited   *Counter
	coalesced     *Counter
	webhooks      *Counter
	orders        *Counter
	rejections    *Counter
	queueWaiting  *Gauge
	queueInFlight *Gauge
	queueDead     *Gauge
	queueOldest   *Gauge
	reg           *Registry
}

// NewPonte registers the hub's metrics on r.
func NewPonte(r *Registry) *Ponte {
	return &Ponte{
		Now: time.Now,
		reg: r,
		pushLatency: r.Histogram("ponte_push_latency_seconds",
			"Time from a desired state's computation to the platform accepting it.", LatencyBuckets, "platform"),
		pushCalls: r.Counter("ponte_push_calls_total", "SKU updates sent to a platform.", "platform", "connection"),
		pushFailures: r.Counter("ponte_push_failures_total",
			"SKU updates a platform did not take, by kind (transient, rate_limited, auth, permanent).", "platform", "connection", "kind"),
		rateLimited: r.Counter("ponte_push_rate_limited_total", "Pushes answered 429 (rate limited).", "platform"),
		coalesced: r.Counter("ponte_coalesced_total",
			"Fan-out targets and push messages that found nothing to push (already pushed or superseded).", "stage", "platform"),
		webhooks: r.Counter("ponte_webhooks_total",
			"Order webhook deliveries by outcome (stored, duplicate, ignored, unknown_connection, bad_signature, error).", "platform", "outcome"),
		orders:        r.Counter("ponte_orders_total", "Orders entering a state (accepted, rejected, waiting, cancelled).", "platform", "state"),
		rejections:    r.Counter("ponte_order_rejections_total", "Rejection reasons of orders entering the rejected state.", "platform", "code"),
		queueWaiting:  r.Gauge("ponte_queue_waiting", "Messages waiting in a queue.", "queue"),
		queueInFlight: r.Gauge("ponte_queue_in_flight", "Messages received and not yet settled.", "queue"),
		queueDead:     r.Gauge("ponte_queue_dead", "Messages in a queue's dead-letter store.", "queue"),
		queueOldest:   r.Gauge("ponte_queue_oldest_age_seconds", "Age of the oldest waiting message.", "queue"),
	}
}

// PushResult records one SKU update's answer from the platform: latency on success,
// the failure kind otherwise.
func (p *Ponte) PushResult(platformName, connection string, computedAt time.Time, err error) {
	if p == nil {
		return
	}
	p.pushCalls.Inc(platformName, connection)
	if err == nil {
		if !computedAt.IsZero() {
			p.pushLatency.Observe(max(p.Now().Sub(computedAt).Seconds(), 0), platformName)
		}
		return
	}
	pe := platform.AsError(err)
	p.pushFailures.Inc(platformName, connection, pe.Kind.String())
	if pe.Kind == platform.RateLimited || pe.StatusCode == http.StatusTooManyRequests {
		p.rateLimited.Inc(platformName)
	}
}

// Coalesced records a fan-out target or push message that had nothing to push.
func (p *Ponte) Coalesced(stage, platformName string) {
	if p == nil {
		return
	}
	p.coalesced.Inc(stage, platformName)
}

// Webhook records an order webhook delivery's outcome.
func (p *Ponte) Webhook(platformName, outcome string) {
	if p == nil {
		return
	}
	p.webhooks.Inc(platformName, outcome)
}

var codeRE = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)

// OrderState records an order entering a state, with its rejection codes.
func (p *Ponte) OrderState(platformName string, state domain.OrderState, rejections []domain.OrderRejection) {
	if p == nil {
		return
	}
	p.orders.Inc(platformName, string(state))
	if state != domain.OrderRejected {
		return
	}
	for _, r := range rejections {
		code := r.Code
		if !codeRE.MatchString(code) {
			code = "other" // codes are constants; this guards the label set anyway
		}
		p.rejections.Inc(platformName, code)
	}
}

// WatchQueues sets the queue gauges from each queue's Stats at every scrape. A queue
// whose stats cannot be read is logged and keeps its last values.
func (p *Ponte) WatchQueues(log *slog.Logger, qs ...queue.Queue) {
	p.reg.OnScrape(func(ctx context.Context) {
		for _, q := range qs {
			if q == nil {
				continue
			}
			st, err := q.Stats(ctx)
			if err != nil {
				log.Warn("queue stats for metrics failed", "queue", q.Name(), "err", err)
				continue
			}
			name := q.Name()
			p.queueWaiting.Set(float64(st.Waiting), name)
			p.queueInFlight.Set(float64(st.InFlight), name)
			p.queueDead.Set(float64(st.Dead), name)
			if st.OldestAge >= 0 {
				p.queueOldest.Set(st.OldestAge.Seconds(), name)
			}
		}
	})
}
