package orders

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/store"
)

// maxDeliveryIDLen bounds a platform-given event id used as a key.
const maxDeliveryIDLen = 200

// Metrics records webhook outcomes and order state changes (internal/metrics); nil
// records nothing.
type Metrics interface {
	Webhook(platform, outcome string)
	OrderState(platform string, state domain.OrderState, rejections []domain.OrderRejection)
}

// Receive verifies one webhook delivery, stores it durably and queues it. A nil error
// means the delivery is stored: the platform may be told 2xx. A queueing failure after
// the store is only logged: the sweeper re-queues unprocessed deliveries.
func (s *Service) Receive(ctx context.Context, platformName, connectionID string, req platform.WebhookRequest) (Receipt, error) {
	r, err := s.receive(ctx, platformName, connectionID, req)
	if s.Metrics != nil {
		s.Metrics.Webhook(s.platformLabel(platformName), webhookOutcome(r, err))
	}
	return r, err
}

// platformLabel keeps a metric label to known platforms: the name comes from the URL.
func (s *Service) platformLabel(name string) string {
	if _, ok := s.Connectors[name]; ok {
		return name
	}
	return "unknown"
}

func webhookOutcome(r Receipt, err error) string {
	switch {
	case errors.Is(err, ErrUnknownConnection):
		return "unknown_connection"
	case errors.Is(err, ErrBadSignature):
		return "bad_signature"
	case errors.Is(err, ErrTooManyUnverified):
		return "too_many_unverified"
	case err != nil:
		return "error"
	case r.Ignored:
		return "ignored"
	case r.Duplicate:
		return "duplicate"
	}
	return "stored"
}

func (s *Service) receive(ctx context.Context, platformName, connectionID string, req platform.WebhookRequest) (Receipt, error) {
	conn, err := s.Store.GetConnection(ctx, connectionID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (conn.Platform != platformName || !conn.Enabled)) {
		return Receipt{}, ErrUnknownConnection
	}
	if err != nil {
		return Receipt{}, fmt.Errorf("read connection %s: %w", connectionID, err)
	}
	connector, ok := s.Connectors[platformName]
	if !ok {
		return Receipt{}, ErrUnknownConnection
	}
	ev, err := connector.VerifyWebhook(ctx, conn, req)
	var unparsed *platform.UnparseableError
	if errors.As(err, &unparsed) {
		return s.storeUnparsed(ctx, conn, req, unparsed)
	}
	var malformed *platform.MalformedError
	if errors.As(err, &malformed) {
		return Receipt{}, malformed // nothing checked, nothing stored: the API says 400/413
	}
	if err != nil {
		return Receipt{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if ev.Resource != "order" || ev.ResourceID == "" && ev.Order == nil {
		// Pings and topics we do not act on are acknowledged and not stored.
		return Receipt{Ignored: true}, nil
	}
	if unsigned(connector) && ev.Order == nil {
		// Anyone may post these: known-missing ids cost nothing, and a flood is capped.
		if s.guard.recentlyMissing(conn.ID, ev.ResourceID, s.now()) {
			return Receipt{Ignored: true}, nil
		}
		if !s.guard.allow(conn, s.now()) {
			return Receipt{}, ErrTooManyUnverified
		}
	}
	id := ev.EventID
	switch {
	case id != "" && len(id) <= maxDeliveryIDLen:
	case ev.Order == nil:
		id, err = thinDeliveryID(ev.ResourceID, s.now())
		if err != nil {
			return Receipt{}, err
		}
	default:
		id = bodyDeliveryID(req.Body)
	}
	return s.store(ctx, store.Delivery{ConnectionID: conn.ID, ID: id, Tenant: conn.Tenant, Platform: conn.Platform, Body: req.Body}, ev)
}

// thinDeliveryID names one thin notification. Tray sends the same body for every change
// of an order, so a hash of it would file the cancellation as a repeat of the payment:
// each notification is its own delivery and leads to a fetch, and the order's own
// version decides whether anything changed (coalescing happens at the fetch).
func thinDeliveryID(resourceID string, now time.Time) (string, error) {
	var nonce [6]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", fmt.Errorf("delivery id: %w", err)
	}
	ref := resourceID
	if len(ref) > 64 {
		sum := sha256.Sum256([]byte(ref))
		ref = hex.EncodeToString(sum[:12])
	}
	return "thin:" + ref + ":" + strconv.FormatInt(now.UnixNano(), 36) + hex.EncodeToString(nonce[:]), nil
}

// bodyDeliveryID names a full-body delivery by its content: a platform's redelivery of
// the same body is the same delivery.
func bodyDeliveryID(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// storeUnparsed keeps a verified delivery whose body the connector cannot read, with the
// request parts needed to verify and parse it again on replay. It is answered 2xx (the
// platform would otherwise disable the hook) and its processing dead-letters it at once
// with the parse error, so it waits in the failure inbox for the fixed parser.
func (s *Service) storeUnparsed(ctx context.Context, conn domain.Connection, req platform.WebhookRequest, why *platform.UnparseableError) (Receipt, error) {
	d := store.Delivery{ConnectionID: conn.ID, ID: "unparsed:" + bodyDeliveryID(req.Body), Tenant: conn.Tenant, Platform: conn.Platform,
		Body: req.Body, Header: keptHeaders(req.Header), Query: req.Query}
	s.log().Warn("verified delivery does not parse; stored for replay", "tenant", conn.Tenant, "connection", conn.ID,
		"delivery", d.ID, "reason", why.Error())
	r, err := s.store(ctx, d, platform.WebhookEvent{})
	r.Unparsed = why.Error()
	return r, err
}

// keptHeaders drops credentials a proxy or client may add; what a platform signs with
// (its signature and topic headers) is kept for the replay.
func keptHeaders(h http.Header) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, v := range h {
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "Cookie", "Proxy-Authorization":
			continue
		}
		out[k] = append([]string(nil), v...)
	}
	return out
}

// store saves a delivery with its event (none for an unparsed one) and queues it.
func (s *Service) store(ctx context.Context, d store.Delivery, ev platform.WebhookEvent) (Receipt, error) {
	if ev.Resource != "" {
		raw, err := json.Marshal(ev)
		if err != nil {
			return Receipt{}, fmt.Errorf("encode event: %w", err)
		}
		d.Event = raw
	}
	d.ReceivedAt = s.now()
	created, err := s.Store.PutDelivery(ctx, d)
	if err != nil {
		return Receipt{}, fmt.Errorf("store delivery: %w", err)
	}
	if created {
		m := message{Kind: kindDelivery, Tenant: d.Tenant, Connection: d.ConnectionID, Delivery: d.ID}
		if err := s.send(ctx, m, 0); err != nil {
			s.log().Warn("delivery stored but not queued; the sweeper will queue it",
				"tenant", d.Tenant, "connection", d.ConnectionID, "delivery", d.ID, "err", err)
		}
	}
	return Receipt{DeliveryID: d.ID, Duplicate: !created}, nil
}

// storeFailed turns each order a poll could not read into a fetch of its own (like a thin
// notification): read again, it imports if the failure was passing, or dead-letters with
// its reason into the failure inbox.
func (s *Service) storeFailed(ctx context.Context, conn domain.Connection, failed []platform.FailedOrder) error {
	for _, f := range failed {
		if f.PlatformID == "" {
			continue
		}
		s.log().Warn("order poll could not read an order; fetching it on its own", "tenant", conn.Tenant, "connection", conn.ID,
			"order", f.PlatformID, "reason", f.Reason)
		id, err := thinDeliveryID(f.PlatformID, s.now())
		if err != nil {
			return err
		}
		ev := platform.WebhookEvent{Topic: "poll_failed", Resource: "order", ResourceID: f.PlatformID}
		if _, err := s.store(ctx, store.Delivery{ConnectionID: conn.ID, ID: id, Tenant: conn.Tenant, Platform: conn.Platform}, ev); err != nil {
			return err
		}
	}
	return nil
}

// queueStats is the part of the Queue port the sweeper reads when the orders queue has it.
type queueStats interface {
	Stats(ctx context.Context) (queue.Stats, error)
}

// sweepAge is how old an unprocessed delivery must be to count as lost. While the orders
// queue holds waiting or in-flight messages, a younger delivery may simply be queued
// behind them: re-queueing it would only read the order twice, so the sweeper then
// waits for the longer backlog age.
func (s *Service) sweepAge(ctx context.Context) time.Duration {
	age := cmp.Or(s.SweepAge, defaultSweepAge)
	st, ok := s.Queue.(queueStats)
	if !ok {
		return age
	}
	stats, err := st.Stats(ctx)
	if err != nil || stats.Waiting+stats.InFlight > 0 {
		return max(age, cmp.Or(s.BacklogSweepAge, defaultBacklogSweepAge))
	}
	return age
}

// Sweep re-queues deliveries stored but never processed (a crash between storing and
// queueing, or a lost message). It returns how many it queued.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	age := s.sweepAge(ctx)
	ds, err := s.Store.ListUnprocessedDeliveries(ctx, s.now().Add(-age), 500)
	if err != nil {
		return 0, fmt.Errorf("list unprocessed deliveries: %w", err)
	}
	for i, d := range ds {
		m := message{Kind: kindDelivery, Tenant: d.Tenant, Connection: d.ConnectionID, Delivery: d.ID}
		if err := s.send(ctx, m, 0); err != nil {
			return i, err
		}
	}
	if len(ds) > 0 {
		s.log().Info("re-queued unprocessed deliveries", "count", len(ds))
	}
	return len(ds), nil
}

// Settings of every polled connection (read by the core, whatever the platform).
const (
	// SettingOrderPollInterval is how often a connection's orders are polled, as a Go
	// duration ("5m"); "0s" polls at every scheduler tick.
	SettingOrderPollInterval = "order_poll_interval"
	// SettingOrdersSince is where a new connection's polling starts (RFC 3339); unset, it
	// starts at the connection's creation, never at the store's first order.
	SettingOrdersSince   = "orders_since"
	maxOrderPollInterval = 24 * time.Hour
)

// ValidatePollSettings checks the order polling settings of a connection, naming the bad one.
func ValidatePollSettings(c domain.Connection) error {
	if v, ok := c.Settings[SettingOrderPollInterval]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > maxOrderPollInterval {
			return fmt.Errorf("%s: %q is not a duration between 0s and 24h (e.g. \"5m\")", SettingOrderPollInterval, v)
		}
	}
	if v, ok := c.Settings[SettingUnverifiedPerMinute]; ok {
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > maxUnverifiedPerMinute {
			return fmt.Errorf("%s: %q is not a whole number between 1 and %d", SettingUnverifiedPerMinute, v, maxUnverifiedPerMinute)
		}
	}
	if v, ok := c.Settings[SettingOrdersSince]; ok {
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			return fmt.Errorf("%s: %q is not an RFC 3339 time (e.g. \"2026-01-31T00:00:00Z\")", SettingOrdersSince, v)
		}
	}
	return nil
}

// pollInterval is the connection's order polling pace: its setting, else its platform's
// (0 for poll-only platforms), else the safety-net default for platforms with webhooks.
func (s *Service) pollInterval(c domain.Connection) time.Duration {
	if d, err := time.ParseDuration(c.Settings[SettingOrderPollInterval]); err == nil && d >= 0 {
		return d
	}
	if p, ok := s.Connectors[c.Platform].(platform.OrderPollPacer); ok {
		return p.DefaultOrderPollInterval()
	}
	return platform.DefaultOrderPollInterval
}

// PollAll takes orders from every enabled connection whose platform lists orders by
// update time, each at its own pace: poll-only platforms at every tick, the others as
// the safety net that catches a lost or disabled webhook within minutes. Both paths meet
// in the same order record. One connection's failure is logged and does not stop the
// others; a tenant whose connections cannot be listed is reported after the others.
func (s *Service) PollAll(ctx context.Context) (int, error) {
	conns, err := store.EnabledConnections(ctx, s.Store)
	total := 0
	for _, c := range conns {
		if _, ok := s.Connectors[c.Platform].(platform.OrderPoller); !ok {
			continue
		}
		due, derr := s.pollDue(ctx, c)
		if derr != nil {
			s.log().Warn("order poll skipped", "connection", c.ID, "err", derr)
			continue
		}
		if !due {
			continue
		}
		n, perr := s.Poll(ctx, c)
		total += n
		if perr != nil {
			s.log().Warn("order poll failed", "connection", c.ID, "err", perr)
		}
	}
	return total, err
}

// pollDue says whether the connection's pace allows a poll now, and if so records this
// poll's time first (a crash then delays the next poll by one interval, never repeats
// it in a loop).
func (s *Service) pollDue(ctx context.Context, c domain.Connection) (bool, error) {
	every := s.pollInterval(c)
	if every == 0 {
		return true, nil
	}
	name := "orders-poll-at|" + c.ID
	now := s.now()
	last, err := s.Store.GetCursor(ctx, name)
	if err != nil {
		return false, fmt.Errorf("read last poll time: %w", err)
	}
	if t, perr := time.Parse(time.RFC3339Nano, last); perr == nil && now.Sub(t) < every && !t.After(now) {
		return false, nil
	}
	if err := s.Store.PutCursor(ctx, name, now.Format(time.RFC3339Nano)); err != nil {
		return false, fmt.Errorf("save poll time: %w", err)
	}
	return true, nil
}

// maxPollPages bounds one poll so a huge backlog is taken over several runs.
const maxPollPages = 20

// Poll takes one connection's new orders page by page from its durable cursor. Each
// order is stored as a delivery before the cursor moves, so a crash repeats a page
// (de-duplicated by delivery id) and never skips one.
func (s *Service) Poll(ctx context.Context, conn domain.Connection) (int, error) {
	poller, ok := s.Connectors[conn.Platform].(platform.OrderPoller)
	if !ok {
		return 0, fmt.Errorf("platform %s has no order polling", conn.Platform)
	}
	name := "orders-poll|" + conn.ID
	cursor, err := s.Store.GetCursor(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("read poll cursor: %w", err)
	}
	n := 0
	for page := 0; page < maxPollPages; page++ {
		p, err := poller.PollOrders(ctx, conn, cursor)
		if err != nil {
			return n, fmt.Errorf("poll orders of %s: %w", conn.ID, err)
		}
		for i := range p.Orders {
			o := p.Orders[i]
			ev := platform.WebhookEvent{Topic: "poll", Resource: "order", ResourceID: o.PlatformID, Order: &o}
			id := "poll:" + o.PlatformID + ":" + strconv.FormatInt(o.UpdatedAt.UnixNano(), 10)
			d := store.Delivery{ConnectionID: conn.ID, ID: id, Tenant: conn.Tenant, Platform: conn.Platform}
			if _, err := s.store(ctx, d, ev); err != nil {
				return n, err
			}
			n++
		}
		if err := s.storeFailed(ctx, conn, p.Failed); err != nil {
			return n, err
		}
		if p.Next != "" && p.Next != cursor {
			if err := s.Store.PutCursor(ctx, name, p.Next); err != nil {
				return n, fmt.Errorf("save poll cursor: %w", err)
			}
			cursor = p.Next
		}
		if !p.More {
			break
		}
	}
	return n, nil
}
