// Package push carries desired states to the stores (DESIGN flow 3). A message names a
// (connection, SKU); the pusher reads the newest desired state and calls the platform only
// for the parts that differ from what was last pushed, so duplicates, retries and
// out-of-order deliveries can only ever push the newest state. A SKU's parts (stock,
// price, product data) go in one update; when the platform refuses that update outright,
// each part goes again on its own, so a part the store will not take (a price) never
// holds back the others, and only the refused part is dead-lettered, with the reason.
package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/fanout"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/store"
	"github.com/ponte-hub/ponte/internal/worker"
)

// Store is the part of the Store port the pusher needs.
type Store interface {
	GetConnection(ctx context.Context, id string) (domain.Connection, error)
	GetMapping(ctx context.Context, tenant, connectionID, sku string) (domain.Mapping, error)
	GetDesired(ctx context.Context, tenant, connectionID, sku string) (domain.DesiredState, error)
	GetPushed(ctx context.Context, tenant, connectionID, sku string) (domain.PushedState, error)
	PutPushed(ctx context.Context, p domain.PushedState) error
	GetCustomers(ctx context.Context, tenant string, ids []string) (map[string]store.CustomerRecord, error)
	GetCustomerLink(ctx context.Context, tenant, connectionID, customerID string) (store.CustomerLink, error)
	PutCustomerLink(ctx context.Context, l store.CustomerLink) error
}

// Observer hears about every platform call outcome (metrics, traces, bench).
type Observer interface {
	Pushed(conn domain.Connection, sku string, d domain.DesiredState, parts domain.Pending, took time.Duration, err error)
}

// Metrics records push outcomes (internal/metrics); nil records nothing.
type Metrics interface {
	PushResult(platform, connection string, computedAt time.Time, err error)
	Coalesced(stage, platform string)
}

// Service is the push use case.
type Service struct {
	Store      Store
	Connectors map[string]platform.Connector
	Now        func() time.Time
	Log        *slog.Logger
	Observer   Observer
	Metrics    Metrics
}

// HandleBatch processes push messages: the SKUs of each connection go to the platform in
// one Push call, so connectors batch where the platform allows it. Repeated keys in the
// batch share one result.
func (s *Service) HandleBatch(ctx context.Context, msgs []queue.Message) []error {
	errs := make([]error, len(msgs))
	type conn struct {
		tenant, id string
		customers  bool
		keys       []string
		at         map[string][]int
	}
	var order []*conn
	byID := map[string]*conn{}
	for i, msg := range msgs {
		var m fanout.PushMessage
		err := json.Unmarshal(msg.Body, &m)
		var customers bool
		key := m.SKU
		switch {
		case err != nil || m.Tenant == "" || m.ConnectionID == "":
			err = errors.New("bad message")
		case m.Kind == "" && m.SKU != "":
		case m.Kind == fanout.KindCustomer && m.Customer != "":
			customers, key = true, m.Customer
		default:
			err = errors.New("bad message")
		}
		if err != nil {
			errs[i] = worker.Dead("push message is not {tenant, connection, sku} nor {tenant, connection, kind: customer, customer}: %.200q", msg.Body)
			continue
		}
		group := m.Tenant + "|" + m.ConnectionID
		if customers {
			group += "|C"
		}
		c, ok := byID[group]
		if !ok {
			c = &conn{tenant: m.Tenant, id: m.ConnectionID, customers: customers, at: map[string][]int{}}
			byID[group] = c
			order = append(order, c)
		}
		if _, seen := c.at[key]; !seen {
			c.keys = append(c.keys, key)
		}
		c.at[key] = append(c.at[key], i)
	}
	for _, c := range order {
		var results []error
		if c.customers {
			results = s.PushCustomers(ctx, c.tenant, c.id, c.keys)
		} else {
			results = s.PushSKUs(ctx, c.tenant, c.id, c.keys)
		}
		for j, key := range c.keys {
			for _, i := range c.at[key] {
				errs[i] = results[j]
			}
		}
	}
	return errs
}

// Handle processes one push message.
func (s *Service) Handle(ctx context.Context, msg queue.Message) error {
	return s.HandleBatch(ctx, []queue.Message{msg})[0]
}

// PushSKUs brings SKUs on one connection up to their desired states; one result per SKU.
func (s *Service) PushSKUs(ctx context.Context, tenant, connID string, skus []string) []error {
	errs := make([]error, len(skus))
	fail := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	conn, err := s.Store.GetConnection(ctx, connID)
	if errors.Is(err, store.ErrNotFound) {
		return fail(worker.Dead("connection %s no longer exists", connID))
	}
	if err != nil {
		return fail(fmt.Errorf("read connection %s: %w", connID, err))
	}
	if conn.Tenant != tenant {
		return fail(worker.Dead("connection %s does not belong to tenant %s", connID, tenant))
	}
	if !conn.Enabled {
		return errs
	}
	connector, ok := s.Connectors[conn.Platform]
	if !ok {
		return fail(worker.Dead("no connector for platform %q (connection %s)", conn.Platform, connID))
	}
	var plans []plan
	for i, sku := range skus {
		p, err := s.plan(ctx, conn, sku)
		if err != nil || p == nil {
			if err == nil && s.Metrics != nil {
				s.Metrics.Coalesced("push", conn.Platform) // already pushed, or a newer push took it
			}
			errs[i] = err
			continue
		}
		p.index = i
		if p.parts.Any() {
			plans = append(plans, *p)
		} else {
			errs[i] = p.guardError()
		}
	}
	if len(plans) == 0 {
		return errs
	}
	callErrs := s.call(ctx, conn, connector, plans, nil)
	var refused []attempt // combined updates refused outright: sent again part by part
	for i, p := range plans {
		err := callErrs[i]
		if err != nil && platform.AsError(err).Kind == platform.Permanent && len(split(p.parts)) > 1 {
			refused = append(refused, attempt{plan: i, parts: p.parts, err: err})
			continue
		}
		var pushed domain.Pending
		if err == nil {
			pushed = p.parts
		}
		errs[p.index] = s.settle(ctx, conn, p, pushed, nil, err)
	}
	if len(refused) > 0 {
		s.pushParts(ctx, conn, connector, plans, refused, errs)
	}
	return errs
}

// attempt is one platform update made for a plan: all its pending parts, or one of them.
type attempt struct {
	plan  int
	parts domain.Pending
	err   error
}

// call sends one update per attempt (per plan when attempts is nil) in one Push call,
// so connectors batch where the platform allows it, and reports each outcome.
func (s *Service) call(ctx context.Context, conn domain.Connection, connector platform.Connector, plans []plan, attempts []attempt) []error {
	if attempts == nil {
		attempts = make([]attempt, len(plans))
		for i, p := range plans {
			attempts[i] = attempt{plan: i, parts: p.parts}
		}
	}
	updates := make([]platform.Update, len(attempts))
	for i, a := range attempts {
		updates[i] = partOf(plans[a.plan].update, a.parts)
	}
	start := time.Now()
	callErrs := connector.Push(ctx, conn, updates)
	took := time.Since(start)
	out := make([]error, len(attempts))
	for i, a := range attempts {
		if i < len(callErrs) {
			out[i] = callErrs[i]
		}
		p := plans[a.plan]
		if s.Observer != nil {
			s.Observer.Pushed(conn, p.sku, p.desired, a.parts, took, out[i])
		}
		if s.Metrics != nil {
			s.Metrics.PushResult(conn.Platform, conn.ID, p.desired.ComputedAt, out[i])
		}
	}
	return out
}

// pushParts handles combined updates the platform refused (a permanent failure): each
// part (stock, price, product) goes again on its own, so one the platform cannot take
// (a price it refuses) never holds back the others. What went through is recorded; a part
// refused on its own is dead-lettered with the platform's reason. When every part is
// refused the first answer stands: nothing was wrong with one part in particular.
func (s *Service) pushParts(ctx context.Context, conn domain.Connection, connector platform.Connector, plans []plan, refused []attempt, errs []error) {
	var attempts []attempt
	for _, r := range refused {
		for _, part := range split(r.parts) {
			attempts = append(attempts, attempt{plan: r.plan, parts: part})
		}
	}
	results := s.call(ctx, conn, connector, plans, attempts)
	byPlan := map[int][]attempt{}
	for i, a := range attempts {
		a.err = results[i]
		byPlan[a.plan] = append(byPlan[a.plan], a)
	}
	for _, r := range refused {
		p := plans[r.plan]
		var pushed domain.Pending
		var failed []attempt
		for _, a := range byPlan[r.plan] {
			if a.err == nil {
				pushed = union(pushed, a.parts)
			} else {
				failed = append(failed, a)
			}
		}
		if !pushed.Any() {
			errs[p.index] = s.settle(ctx, conn, p, pushed, nil, r.err)
			continue
		}
		errs[p.index] = s.settle(ctx, conn, p, pushed, failed, nil)
	}
}

// settle records what a plan pushed and turns what did not go out into its result:
// err is the failure of the plan's update as a whole; failed are parts sent on their own
// that failed. A retryable failure wins over a refusal, because the retry sends every
// part still pending; refusals are dead-lettered together with a held-back price.
func (s *Service) settle(ctx context.Context, conn domain.Connection, p plan, pushed domain.Pending, failed []attempt, err error) error {
	if pushed.Any() {
		// The platform holds the value now: record it even if the batch's deadline has
		// passed meanwhile, or a retry would push the same value again.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		rerr := s.record(rctx, conn, p.sku, p.desired, p.last, pushed)
		cancel()
		if rerr != nil {
			return rerr
		}
	}
	if err != nil {
		return s.failure(conn, p, p.parts, err)
	}
	var reasons []string
	for _, a := range failed {
		ferr := s.failure(conn, p, a.parts, a.err)
		var dead *worker.DeadError
		if !errors.As(ferr, &dead) {
			return ferr
		}
		reasons = append(reasons, dead.Reason)
	}
	if p.guard != nil {
		reasons = append(reasons, p.guardReason())
	}
	if len(reasons) == 0 {
		return nil
	}
	msg := strings.Join(reasons, "; ")
	if pushed.Any() {
		msg += fmt.Sprintf(" (%s pushed)", describe(pushed))
	}
	return worker.Dead("%s", msg)
}

// split lists a pending set's parts one by one, stock first: stock is what oversells.
func split(p domain.Pending) []domain.Pending {
	var out []domain.Pending
	if p.Stock {
		out = append(out, domain.Pending{Stock: true})
	}
	if p.Price {
		out = append(out, domain.Pending{Price: true})
	}
	if p.Product {
		out = append(out, domain.Pending{Product: true})
	}
	return out
}

func union(a, b domain.Pending) domain.Pending {
	return domain.Pending{Stock: a.Stock || b.Stock, Price: a.Price || b.Price, Product: a.Product || b.Product}
}

// partOf narrows an update to some of its parts; the others stay nil (left alone).
func partOf(u platform.Update, parts domain.Pending) platform.Update {
	out := platform.Update{Target: u.Target}
	if parts.Stock {
		out.Stock = u.Stock
	}
	if parts.Price {
		out.Price, out.Cost, out.ListPrice = u.Price, u.Cost, u.ListPrice
	}
	if parts.Product {
		out.Product = u.Product
	}
	return out
}

// recordTimeout bounds recording a push the platform already accepted.
const recordTimeout = 10 * time.Second

// plan is one SKU's pending push.
type plan struct {
	index   int
	sku     string
	desired domain.DesiredState
	last    *domain.PushedState
	parts   domain.Pending
	update  platform.Update
	guard   error
}

// guardError dead-letters a price the drop guard held back, once the rest went out: the
// price waits for a person (or a later price that passes the guard).
func (p plan) guardError() error {
	if p.guard == nil {
		return nil
	}
	return worker.Dead("%s", p.guardReason())
}

func (p plan) guardReason() string {
	return fmt.Sprintf("price not pushed for SKU %s: %v", p.sku, p.guard)
}

// plan reads what one SKU needs; nil when nothing is to be done.
func (s *Service) plan(ctx context.Context, conn domain.Connection, sku string) (*plan, error) {
	desired, err := s.Store.GetDesired(ctx, conn.Tenant, conn.ID, sku)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read desired %s/%s: %w", conn.ID, sku, err)
	}
	p := &plan{sku: sku, desired: desired}
	pushed, err := s.Store.GetPushed(ctx, conn.Tenant, conn.ID, sku)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("read pushed %s/%s: %w", conn.ID, sku, err)
	default:
		p.last = &pushed
	}
	p.parts = desired.Pending(p.last)
	if !p.parts.Any() {
		return nil, nil
	}
	mapping, err := s.Store.GetMapping(ctx, conn.Tenant, conn.ID, sku)
	if errors.Is(err, store.ErrNotFound) {
		return nil, worker.Dead("SKU %s is not mapped to a product on connection %s", sku, conn.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("read mapping %s/%s: %w", conn.ID, sku, err)
	}
	p.update = platform.Update{Target: platform.Target{SKU: sku, ProductID: mapping.ProductID, VariantID: mapping.VariantID}}
	if p.parts.Stock {
		p.update.Stock = desired.Stock
	}
	if p.parts.Price {
		if p.last != nil && p.last.Price != nil && desired.Price != nil {
			p.guard = domain.CheckPriceDrop(conn.Rules, *p.last.Price, *desired.Price)
		}
		if p.guard == nil {
			p.update.Price, p.update.Cost, p.update.ListPrice = desired.Price, desired.Cost, desired.ListPrice
		} else {
			p.parts.Price = false
		}
	}
	if p.parts.Product {
		p.update.Product = desired.Product
	}
	return p, nil
}

// failure classifies a platform error on some of a plan's parts into retry or dead-letter.
func (s *Service) failure(conn domain.Connection, p plan, parts domain.Pending, err error) error {
	pe := platform.AsError(err)
	what := describe(parts)
	s.Log.Warn("push failed", "tenant", conn.Tenant, "connection", conn.ID, "platform", conn.Platform, "sku", p.sku,
		"parts", what, "kind", pe.Kind.String(), "status", pe.StatusCode, "err", err)
	if pe.Kind == platform.Permanent {
		return worker.Dead("%s push of %s for SKU %s on %s refused: %v", conn.Platform, what, p.sku, conn.ID, err)
	}
	return worker.Retry(pe.RetryAfter, fmt.Errorf("%s push of %s for SKU %s on %s: %w", conn.Platform, what, p.sku, conn.ID, err))
}

// record stores what the platform now holds: the pushed parts from desired, the rest as before.
func (s *Service) record(ctx context.Context, conn domain.Connection, sku string, d domain.DesiredState, last *domain.PushedState, parts domain.Pending) error {
	p := domain.PushedState{Tenant: d.Tenant, ConnectionID: conn.ID, SKU: sku}
	if last != nil {
		p = *last
	}
	if parts.Stock {
		p.Stock = d.Stock
		p.Versions.Stock = d.Versions.Stock
	}
	if parts.Price {
		p.Price, p.Cost, p.ListPrice = d.Price, d.Cost, d.ListPrice
		p.Versions.Price = d.Versions.Price
	}
	if parts.Product {
		p.Product = d.Product
		p.Versions.Product = d.Versions.Product
	}
	if d.Rev > p.Rev {
		p.Rev = d.Rev
	}
	p.PushedAt = s.Now().UTC()
	if err := s.Store.PutPushed(ctx, p); err != nil && !errors.Is(err, store.ErrStale) {
		// The platform has the value but the hub does not know it: the retry pushes the same value again.
		return fmt.Errorf("record pushed %s/%s: %w", conn.ID, sku, err)
	}
	return nil
}

func describe(p domain.Pending) string {
	var parts []string
	if p.Stock {
		parts = append(parts, "stock")
	}
	if p.Price {
		parts = append(parts, "price")
	}
	if p.Product {
		parts = append(parts, "product")
	}
	return strings.Join(parts, "+")
}
