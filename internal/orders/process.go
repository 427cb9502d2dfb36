package orders

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/store"
	"github.com/ponte-hub/ponte/internal/worker"
)

const (
	maxOrderRounds = 8
	failedPrefix   = "failed: "
)

func (s *Service) handleDelivery(ctx context.Context, m message, attempts int) error {
	log := s.log().With("tenant", m.Tenant, "connection", m.Connection, "delivery", m.Delivery)
	d, err := s.Store.GetDelivery(ctx, m.Connection, m.Delivery)
	if errors.Is(err, store.ErrNotFound) {
		return worker.Dead("delivery %s of connection %s is not stored", m.Delivery, m.Connection)
	}
	if err != nil {
		return fmt.Errorf("read delivery: %w", err)
	}
	if d.ProcessedAt != nil && !strings.HasPrefix(d.Outcome, failedPrefix) {
		return nil
	}
	outcome, err := s.processDelivery(ctx, d)
	if err != nil {
		// Mark a delivery that will be dead-lettered, so the sweeper leaves it to the
		// operator's redrive (which processes it again: failed outcomes are retried).
		var dead *worker.DeadError
		if errors.As(err, &dead) || attempts >= worker.DefaultPolicy.MaxAttempts {
			if merr := s.Store.MarkDeliveryProcessed(ctx, d.ConnectionID, d.ID, failedPrefix+err.Error(), s.now()); merr != nil {
				log.Warn("could not mark failed delivery", "err", merr)
			}
		}
		return err
	}
	if err := s.Store.MarkDeliveryProcessed(ctx, d.ConnectionID, d.ID, outcome, s.now()); err != nil {
		return fmt.Errorf("mark delivery processed: %w", err)
	}
	return nil
}

func (s *Service) processDelivery(ctx context.Context, d store.Delivery) (string, error) {
	conn, err := s.Store.GetConnection(ctx, d.ConnectionID)
	if errors.Is(err, store.ErrNotFound) {
		return "connection removed", nil
	}
	if err != nil {
		return "", fmt.Errorf("read connection: %w", err)
	}
	connector, ok := s.Connectors[conn.Platform]
	if !ok {
		return "", worker.Dead("no connector for platform %q", conn.Platform)
	}
	ev, err := s.deliveryEvent(ctx, conn, connector, d)
	if err != nil {
		return "", err
	}
	if ev.Resource != "order" || ev.ResourceID == "" && ev.Order == nil {
		return "ignored: not an order event", nil
	}
	var o domain.Order
	var fetchedAt *time.Time
	if ev.Order != nil {
		o = *ev.Order
	} else {
		// Thin notifications (Tray, Nuvemshop) carry ids only: read the order as it is now,
		// unless a read begun after this notification arrived is already applied.
		var coalesced string
		o, fetchedAt, coalesced, err = s.fetchOnce(ctx, conn, connector, ev.ResourceID, d.ReceivedAt)
		switch {
		case coalesced != "":
			return coalesced, nil
		case err != nil && unsigned(connector) && notFound(err):
			// An unsigned platform's notification for an order it does not have is forged
			// or stale: remembered for a while, not an operator's failure.
			s.guard.rememberMissing(conn.ID, ev.ResourceID, s.now())
			return "ignored: the platform has no order " + ev.ResourceID, nil
		case err != nil:
			return "", retryable("fetch order "+ev.ResourceID, err)
		}
	}
	if o.PlatformID == "" {
		o.PlatformID = ev.ResourceID
	}
	if o.PlatformID == "" {
		return "", worker.Dead("delivery %s: order without a platform id", d.ID)
	}
	o.Tenant, o.ConnectionID = conn.Tenant, conn.ID
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = d.ReceivedAt
	}
	o.TotalMismatch = o.CheckTotal()
	return s.apply(ctx, conn, o, fetchedAt)
}

// deliveryEvent is the delivery's verified event. A delivery stored without one (its
// body did not parse) is verified and parsed again: after a parser fix, the operator's
// retry from the failure inbox imports it; until then it is dead-lettered at once with
// the field that failed, never retried in a loop.
func (s *Service) deliveryEvent(ctx context.Context, conn domain.Connection, connector platform.Connector, d store.Delivery) (platform.WebhookEvent, error) {
	var ev platform.WebhookEvent
	if raw := bytes.TrimSpace(d.Event); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		if err := json.Unmarshal(d.Event, &ev); err != nil {
			return ev, worker.Dead("stored event of delivery %s is not JSON: %v", d.ID, err)
		}
		return ev, nil
	}
	ev, err := connector.VerifyWebhook(ctx, conn, platform.WebhookRequest{Header: d.Header, Query: d.Query, Body: d.Body})
	var unparsed *platform.UnparseableError
	if errors.As(err, &unparsed) {
		return ev, worker.Dead("%s delivery %s does not parse (%s); retry it once the parser is fixed", conn.Platform, d.ID, unparsed.Error())
	}
	if err != nil {
		return ev, worker.Dead("%s delivery %s no longer verifies: %v", conn.Platform, d.ID, err)
	}
	return ev, nil
}

// fetchOnce reads a thin notification's order: one read per order at a time in this
// process (concurrent deliveries wait for it and then find it applied), and none at all
// when a read begun after this notification arrived is already applied.
func (s *Service) fetchOnce(ctx context.Context, conn domain.Connection, connector platform.Connector, id string,
	received time.Time) (o domain.Order, fetchedAt *time.Time, coalesced string, err error) {
	read := func() (any, error) {
		if at, ok := s.fetchedSince(ctx, conn, id, received); ok {
			coalesced = "coalesced: the order was read at " + at.Format(time.RFC3339Nano) + ", after this notification"
			return nil, nil
		}
		start := s.now()
		got, ferr := connector.FetchOrder(ctx, conn, id)
		if ferr == nil {
			o, fetchedAt = got, &start
		}
		return nil, ferr
	}
	_, err, shared := s.fetches.Do(conn.ID+"\x00"+id, read)
	if shared && err == nil && fetchedAt == nil && coalesced == "" {
		// This delivery waited on another's read, which that delivery applies; if its
		// record does not show it yet, read once more rather than wait.
		_, err = read()
	}
	return o, fetchedAt, coalesced, err
}

// fetchCoalesceMargin covers clock differences between the hub's processes: a read must
// begin this long after a notification arrived to count as reflecting it.
const fetchCoalesceMargin = time.Second

// fetchedSince says whether the order's record holds a platform read begun after a
// notification received at `received` (with the margin), so reading again is wasted.
func (s *Service) fetchedSince(ctx context.Context, conn domain.Connection, platformID string, received time.Time) (time.Time, bool) {
	rec, err := s.Store.GetOrder(ctx, conn.Tenant, domain.OrderID(conn.ID, platformID))
	if err != nil || rec.FetchedAt == nil {
		return time.Time{}, false
	}
	return *rec.FetchedAt, rec.FetchedAt.After(received.Add(fetchCoalesceMargin))
}

// apply moves the order's one record forward with this platform version of it.
// fetchedAt, when set, is when the platform read that gave o began.
func (s *Service) apply(ctx context.Context, conn domain.Connection, o domain.Order, fetchedAt *time.Time) (string, error) {
	id := domain.OrderID(conn.ID, o.PlatformID)
	customerID, err := s.upsertCustomer(ctx, conn, o)
	if err != nil {
		return "", err
	}
	for round := 0; round < maxOrderRounds; round++ {
		prev, err := s.Store.GetOrder(ctx, conn.Tenant, id)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("read order: %w", err)
		}
		if exists && o.UpdatedAt.Before(prev.PlatformUpdatedAt) {
			return "stale: the record holds a newer platform update", s.flush(ctx, prev)
		}
		next, events, err := s.transition(ctx, conn, prev, exists, o, customerID)
		if err != nil {
			return "", err
		}
		if fetchedAt != nil && (next.FetchedAt == nil || fetchedAt.After(*next.FetchedAt)) {
			next.FetchedAt = fetchedAt
		}
		if exists && sameOutcome(prev, next) {
			return "unchanged", s.flush(ctx, prev)
		}
		if err := s.converge(ctx, conn.Tenant, conn.ID, id, prev.Reserved, next.Reserved, nil); err != nil {
			return "", err
		}
		if err := s.syncNeeds(ctx, prev, next); err != nil {
			return "", err
		}
		next.Rev = prev.Rev + 1
		next.Outbox = append(next.Outbox, eventsFor(next, events)...)
		if err := s.Store.PutOrder(ctx, store.OrderWrite{Record: next, ExpectedRev: prev.Rev}); errors.Is(err, store.ErrConflict) {
			continue
		} else if err != nil {
			return "", fmt.Errorf("save order: %w", err)
		}
		if s.Metrics != nil && next.State != prev.State {
			s.Metrics.OrderState(conn.Platform, next.State, next.Rejections)
		}
		if next.State == domain.OrderAccepted && prev.State != domain.OrderAccepted && conn.Rules.StatusMap.Received != "" {
			if err := s.send(ctx, message{Kind: kindWriteBack, Tenant: conn.Tenant, Connection: conn.ID, Order: id, Status: "received", Rev: next.Rev}, 0); err != nil {
				return "", err
			}
		}
		if next.State == domain.OrderRejected && prev.State != domain.OrderRejected {
			if err := s.writeBackRejection(ctx, conn, next); err != nil {
				return "", err
			}
		}
		return string(next.State), s.flush(ctx, next)
	}
	return "", worker.Retry(0, fmt.Errorf("order %s kept changing under %d rounds", id, maxOrderRounds))
}

// transition computes the record after this platform version. States only move forward:
// an accepted order is never re-judged (only cancelled), a cancelled one stays cancelled.
func (s *Service) transition(ctx context.Context, conn domain.Connection, prev domain.OrderRecord, exists bool, o domain.Order,
	customerID string) (domain.OrderRecord, []string, error) {
	now := s.now()
	next := prev
	if !exists {
		next = domain.OrderRecord{ID: domain.OrderID(conn.ID, o.PlatformID), Tenant: conn.Tenant, ConnectionID: conn.ID,
			Platform: conn.Platform, PlatformID: o.PlatformID, CreatedAt: now}
	}
	next.History = append([]domain.OrderStep(nil), prev.History...)
	next.Outbox = append([]domain.OrderEvent(nil), prev.Outbox...)
	next.Reserved = maps.Clone(prev.Reserved)
	next.Order, next.Number, next.CustomerID = o, o.Number, customerID
	statusChanged := exists && !strings.EqualFold(prev.PlatformStatus, o.PlatformStatus)
	if o.TotalMismatch != "" && o.TotalMismatch != prev.Order.TotalMismatch {
		next.Note(now, "check the amounts: "+o.TotalMismatch)
	}
	next.PlatformStatus, next.PlatformUpdatedAt, next.UpdatedAt = o.PlatformStatus, o.UpdatedAt, now
	var events []string

	switch prev.State {
	case domain.OrderCancelled:
		if statusChanged {
			next.Note(now, fmt.Sprintf("platform status %q (order stays cancelled)", o.PlatformStatus))
		}
		return next, nil, nil
	case domain.OrderAccepted:
		if conn.Rules.StatusMap.Decide(o.PlatformStatus) == domain.ActionCancel {
			s.cancel(&next, now, "cancelled on the platform (status "+o.PlatformStatus+")")
			return next, []string{EventStatusChanged}, nil
		}
		if statusChanged {
			next.Note(now, fmt.Sprintf("platform status %q", o.PlatformStatus))
			events = append(events, EventStatusChanged)
		}
		return next, events, nil
	}

	// New, waiting or rejected: judge this version.
	v, err := s.judge(ctx, conn, o, prev.Reserved)
	if err != nil {
		return next, nil, err
	}
	next.State, next.Lines, next.Rejections = v.state, v.lines, v.rejections
	next.Reserved = v.reserve
	switch v.state {
	case domain.OrderAccepted:
		next.PaymentTerms = conn.Rules.DefaultPaymentTerms
		next.ERP = domain.ERPHandoff{State: domain.ERPPending, OfferedAt: &now}
		next.Note(now, fmt.Sprintf("accepted (platform status %q), stock reserved, offered to the ERP", o.PlatformStatus))
		events = append(events, EventAccepted)
	case domain.OrderRejected:
		if prev.State != domain.OrderRejected || !reflect.DeepEqual(prev.Rejections, v.rejections) {
			next.Note(now, "rejected: "+rejectionSummary(v.rejections))
			events = append(events, EventRejected)
		}
	case domain.OrderWaiting:
		what := "waiting: " + rejectionSummary(v.rejections)
		if len(v.reserve) > 0 {
			what = fmt.Sprintf("waiting with stock held (platform status %q)", o.PlatformStatus)
		}
		if prev.State != domain.OrderWaiting || statusChanged || !exists {
			next.Note(now, what)
		}
	case domain.OrderCancelled:
		next.Note(now, fmt.Sprintf("cancelled on the platform before import (status %q)", o.PlatformStatus))
		if exists {
			events = append(events, EventStatusChanged)
		}
	}
	return next, events, nil
}

// writeBackRejection queues the rejected status's write-back when the connection maps
// one (status_map.write_back.rejected): the merchant then sees the refusal on the store.
func (s *Service) writeBackRejection(ctx context.Context, conn domain.Connection, rec domain.OrderRecord) error {
	if conn.Rules.StatusMap.WriteBackStatus(domain.HubRejected) == "" {
		return nil
	}
	return s.send(ctx, message{Kind: kindWriteBack, Tenant: conn.Tenant, Connection: conn.ID, Order: rec.ID, Status: domain.HubRejected, Rev: rec.Rev}, 0)
}

// cancel releases everything the order holds, and withdraws it from the ERP's pending
// feed when the ERP has not taken it yet.
func (s *Service) cancel(r *domain.OrderRecord, now time.Time, why string) {
	r.State = domain.OrderCancelled
	r.Reserved = nil
	r.Note(now, why+"; reservation released")
	if r.ERP.State == domain.ERPPending {
		r.ERP.State = domain.ERPWithdrawn
		r.Note(now, "withdrawn from the ERP's pending orders (it had not taken the order)")
	}
}

func rejectionSummary(rs []domain.OrderRejection) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, r.Message)
	}
	return strings.Join(parts, "; ")
}

// sameOutcome says a re-judged version changes nothing worth a write.
func sameOutcome(a, b domain.OrderRecord) bool {
	return a.State == b.State && a.PlatformStatus == b.PlatformStatus && a.PlatformUpdatedAt.Equal(b.PlatformUpdatedAt) &&
		reflect.DeepEqual(a.Rejections, b.Rejections) && maps.Equal(a.Reserved, b.Reserved) && len(b.Outbox) == len(a.Outbox)
}

// syncNeeds records purchase needs of an order that became accepted with shortfalls and
// drops them when it is cancelled. Writes replace by (order, SKU), so repeats are harmless.
func (s *Service) syncNeeds(ctx context.Context, prev, next domain.OrderRecord) error {
	if next.State == domain.OrderCancelled && prev.State == domain.OrderAccepted {
		if err := s.Store.DeletePurchaseNeeds(ctx, next.Tenant, next.ID); err != nil {
			return fmt.Errorf("drop purchase needs: %w", err)
		}
		return nil
	}
	if next.State != domain.OrderAccepted || prev.State == domain.OrderAccepted {
		return nil
	}
	var needs []domain.PurchaseNeed
	at := map[string]int{}
	for _, l := range next.Lines {
		if l.Shortfall <= 0 {
			continue
		}
		if i, ok := at[l.SKU]; ok {
			needs[i].Quantity += l.Shortfall
			continue
		}
		at[l.SKU] = len(needs)
		needs = append(needs, domain.PurchaseNeed{Tenant: next.Tenant, Supplier: l.Supplier, SKU: l.SKU, OrderID: next.ID,
			ConnectionID: next.ConnectionID, Quantity: l.Shortfall, CreatedAt: next.UpdatedAt})
	}
	if len(needs) == 0 {
		return nil
	}
	if err := s.Store.PutPurchaseNeeds(ctx, needs); err != nil {
		return fmt.Errorf("store purchase needs: %w", err)
	}
	return nil
}
