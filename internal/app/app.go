// Package app wires Ponte's use cases to a backend: the embedded store and queue for
// `ponte serve`, or AWS services (DynamoDB, SQS, Secrets Manager) by configuration. The
// Lambda functions wire the same pieces one at a time.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/ponte-hub/ponte/internal/catalog"
	"github.com/ponte-hub/ponte/internal/fanout"
	"github.com/ponte-hub/ponte/internal/httpapi"
	"github.com/ponte-hub/ponte/internal/ingest"
	"github.com/ponte-hub/ponte/internal/metrics"
	"github.com/ponte-hub/ponte/internal/notify"
	"github.com/ponte-hub/ponte/internal/orders"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/ratelimit"
	"github.com/ponte-hub/ponte/internal/push"
	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/queue/inbox"
	"github.com/ponte-hub/ponte/internal/reconcile"
	"github.com/ponte-hub/ponte/internal/secrets/keys"
	"github.com/ponte-hub/ponte/internal/store"
	"github.com/ponte-hub/ponte/internal/worker"
)

// Hub is a wired Ponte.
type Hub struct {
	Backend    string
	Store      store.Store
	Secrets    platform.Secrets
	Changes    queue.Queue
	PushQueues map[string]queue.Queue
	// OrderQueue carries order deliveries, write-backs and releases (standard: delays).
	OrderQueue queue.Queue
	// EventQueue carries outgoing webhooks (FIFO, grouped per endpoint).
	EventQueue queue.Queue
	Connectors map[string]platform.Connector
	// RateLimits keeps the stores' rate limits the connectors take: shared in the table on
	// AWS (every function, every execution environment), in process on the embedded backend.
	RateLimits ratelimit.Limits
	// Keys hashes API and operator keys for setup and the API alike (nil: unkeyed SHA-256).
	Keys       *keys.Hasher
	Ingest     *ingest.Service
	Fanout     *fanout.Service
	Pusher     *push.Service
	Reconcile  *reconcile.Service
	FirstSync  *catalog.Service
	Orders     *orders.Service
	Dispatcher *notify.Dispatcher
	API        *httpapi.API
	Log        *slog.Logger
	// Metrics is exposed at /metrics by `ponte serve` and flushed as EMF by the Lambdas.
	Metrics *metrics.Registry

	firstSyncKick chan struct{}
	closers       []func() error
}

// Workers sizes the local queue consumers.
type Workers struct {
	Fanout int
	Push   int
	Orders int
	Batch  int
	// HandleTimeout bounds one batch (below the embedded queues' visibility timeout).
	HandleTimeout time.Duration
}

// DefaultWorkers suit a 2-core machine.
var DefaultWorkers = Workers{Fanout: 4, Push: 8, Orders: 4, Batch: 50, HandleTimeout: embeddedVisibility * 2 / 3}

// wire builds the use cases once the backend pieces are set.
func (h *Hub) wire() {
	now := time.Now
	// Every dead letter is filed in the store's index under its tenant and connection
	// (the failure inbox) before it leaves its queue, whoever dead-letters it.
	failures := &inbox.Inbox{Index: h.Store, Queues: map[string]queue.Queue{}, Log: h.Log}
	filing := func(q queue.Queue) queue.Queue {
		if q == nil {
			return nil
		}
		failures.Queues[q.Name()] = q
		return failures.Wrap(q)
	}
	h.Changes, h.OrderQueue, h.EventQueue = filing(h.Changes), filing(h.OrderQueue), filing(h.EventQueue)
	for p, q := range h.PushQueues {
		h.PushQueues[p] = filing(q)
	}
	h.Ingest = &ingest.Service{Store: h.Store, Changes: h.Changes, Now: now}
	senders := make(map[string]fanout.Sender, len(h.PushQueues))
	for name, q := range h.PushQueues {
		senders[name] = q
	}
	customerPlatforms := map[string]bool{}
	for name, c := range h.Connectors {
		if _, ok := c.(platform.CustomerPusher); ok {
			customerPlatforms[name] = true
		}
	}
	h.Fanout = &fanout.Service{Store: h.Store, PushQueues: senders, Now: now, Log: h.Log, ConnectionTTL: 2 * time.Second,
		CustomerPlatforms: customerPlatforms}
	reconcileQueues := make(map[string]reconcile.Sender, len(h.PushQueues))
	for name, q := range h.PushQueues {
		reconcileQueues[name] = q
	}
	h.Reconcile = &reconcile.Service{Store: h.Store, PushQueues: reconcileQueues, Connectors: h.Connectors, Now: now, Log: h.Log}
	h.FirstSync = &catalog.Service{Store: h.Store, Connectors: h.Connectors, Now: now, Log: h.Log}
	h.firstSyncKick = make(chan struct{}, 1)
	h.Pusher = &push.Service{Store: h.Store, Connectors: h.Connectors, Now: now, Log: h.Log}
	h.Orders = &orders.Service{Store: h.Store, Queue: h.OrderQueue, Changes: h.Changes, Connectors: h.Connectors, Now: now, Log: h.Log,
		Events: &notify.Publisher{Tenants: h.Store, Queue: h.EventQueue, Now: now}}
	h.Dispatcher = &notify.Dispatcher{Tenants: h.Store, Secrets: h.Secrets, Acker: h.Orders, Now: now, Log: h.Log}
	h.Ingest.Orders = h.Orders
	h.API = &httpapi.API{Store: h.Store, Ingest: h.Ingest, Connectors: h.Connectors, Orders: h.Orders, Log: h.Log, Keys: h.Keys,
		Ops: h.Store, Catalog: h.Store, Queues: map[string]queue.Queue{},
		FirstSync: &firstSyncAPI{svc: h.FirstSync, kick: h.firstSyncKick}}
	for _, q := range append([]queue.Queue{h.Changes, h.OrderQueue, h.EventQueue}, slices.Collect(maps.Values(h.PushQueues))...) {
		if q != nil {
			h.API.Queues[q.Name()] = q
		}
	}
	h.Metrics = metrics.NewRegistry()
	m := metrics.NewPonte(h.Metrics)
	h.Pusher.Metrics, h.Fanout.Metrics, h.Orders.Metrics = m, m, m
	m.WatchQueues(h.Log, slices.Collect(maps.Values(h.API.Queues))...)
}

// RunWorkers consumes the changes queue and every push queue until ctx ends.
func (h *Hub) RunWorkers(ctx context.Context, w Workers) {
	var wg sync.WaitGroup
	run := func(l *worker.Loop) {
		wg.Add(1)
		go func() { defer wg.Done(); l.Run(ctx) }()
	}
	run(&worker.Loop{Queue: h.Changes, Handler: h.Fanout, Policy: worker.DefaultPolicy, Concurrency: w.Fanout, BatchSize: w.Batch,
		HandleTimeout: w.HandleTimeout, Log: h.Log})
	for _, q := range h.PushQueues {
		run(&worker.Loop{Queue: q, Handler: h.Pusher, Policy: worker.DefaultPolicy, Concurrency: w.Push, BatchSize: w.Batch,
			HandleTimeout: w.HandleTimeout, Log: h.Log})
	}
	orderWorkers := max(w.Orders, 1)
	run(&worker.Loop{Queue: h.OrderQueue, Handler: h.Orders, Policy: worker.DefaultPolicy, Concurrency: orderWorkers, BatchSize: 10,
		HandleTimeout: w.HandleTimeout, Log: h.Log})
	run(&worker.Loop{Queue: h.EventQueue, Handler: worker.Each(h.Dispatcher), Policy: worker.DefaultPolicy, Concurrency: orderWorkers,
		BatchSize: 10, HandleTimeout: w.HandleTimeout, Log: h.Log})
	wg.Wait()
}

// Close releases the backend.
func (h *Hub) Close() error {
	var errs []error
	for i := len(h.closers) - 1; i >= 0; i-- {
		errs = append(errs, h.closers[i]())
	}
	return errors.Join(errs...)
}

func pushQueueName(platformName string) string { return fmt.Sprintf("push-%s", platformName) }
