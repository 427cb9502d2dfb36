package orders

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/store"
	"github.com/ponte-hub/ponte/internal/worker"
)

// Store is the part of the Store port orders use.
type Store interface {
	ListTenants(ctx context.Context) ([]domain.Tenant, error)
	GetConnection(ctx context.Context, id string) (domain.Connection, error)
	ListConnections(ctx context.Context, tenant string) ([]domain.Connection, error)
	GetSKUs(ctx context.Context, tenant string, skus []string) (map[string]domain.SKUState, error)
	PutSKUs(ctx context.Context, writes []store.SKUWrite) ([]error, error)
	MappingByPlatformID(ctx context.Context, connectionID, productID, variantID string) (domain.Mapping, error)
	GetCustomers(ctx context.Context, tenant string, ids []string) (map[string]store.CustomerRecord, error)
	PutCustomers(ctx context.Context, writes []store.CustomerWrite) ([]error, error)
	store.OrderStore
}

// Sender is the part of the Queue port orders use.
type Sender interface {
	Send(ctx context.Context, msgs ...queue.OutMessage) error
}

// Publisher sends outgoing events (internal/notify). Event ids are stable, so a
// publish repeated after a crash is de-duplicated by receivers (webhook-id).
type Publisher interface {
	Publish(ctx context.Context, tenant string, events []domain.OrderEvent) error
}

// Service is the order use case. Queue carries this package's own work (deliveries,
// write-backs, reservation releases); Changes is the fan-out queue.
type Service struct {
	Store      Store
	Queue      Sender
	Changes    Sender
	Events     Publisher
	Connectors map[string]platform.Connector
	Now        func() time.Time
	Log        *slog.Logger
	// AckGrace is how long an ERP-registered order keeps its reservation when the ERP's
	// next stock level does not arrive first (default 2 minutes).
	AckGrace time.Duration
	// SweepAge is how old an unprocessed delivery must be before the sweeper re-queues it
	// (default 30 s: well past a normal enqueue).
	SweepAge time.Duration
	// BacklogSweepAge replaces SweepAge while the orders queue is busy (default 15
	// minutes): a delivery younger than that may still be waiting its turn.
	BacklogSweepAge time.Duration
	// Metrics, when set, counts webhook outcomes and order states (see intake.go).
	Metrics Metrics

	guard   guard
	fetches singleflight.Group
}

// Message kinds on the orders queue.
const (
	kindDelivery  = "delivery"
	kindWriteBack = "write_back"
	kindRelease   = "release"
)

// message is an orders-queue body: keys, never values.
type message struct {
	Kind       string `json:"kind"`
	Tenant     string `json:"tenant"`
	Connection string `json:"connection,omitempty"`
	Delivery   string `json:"delivery,omitempty"`
	Order      string `json:"order,omitempty"`
	// Status is the hub status a write-back writes ("received", "shipped", ...).
	Status string `json:"status,omitempty"`
	// Rev makes bodies of different work differ (FIFO de-duplication hashes bodies).
	Rev int64 `json:"rev,omitempty"`
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) send(ctx context.Context, m message, delay time.Duration) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s message: %w", m.Kind, err)
	}
	key := m.Kind + "|" + m.Connection + "|" + m.Delivery + "|" + m.Order + "|" + m.Status
	if err := s.Queue.Send(ctx, queue.OutMessage{Body: body, Key: key, Delay: delay}); err != nil {
		return fmt.Errorf("queue %s: %w", m.Kind, err)
	}
	return nil
}

// Handle runs one orders-queue message (worker.Handler).
func (s *Service) Handle(ctx context.Context, msg queue.Message) error {
	var m message
	if err := json.Unmarshal(msg.Body, &m); err != nil {
		return worker.Dead("undecodable orders message: %v", err)
	}
	switch m.Kind {
	case kindDelivery:
		return s.handleDelivery(ctx, m, msg.Attempts)
	case kindWriteBack:
		return s.handleWriteBack(ctx, m)
	case kindRelease:
		return s.handleRelease(ctx, m)
	}
	return worker.Dead("unknown orders message kind %q", m.Kind)
}

// HandleBatch runs messages one by one (worker.BatchHandler).
func (s *Service) HandleBatch(ctx context.Context, msgs []queue.Message) []error {
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		errs[i] = s.Handle(ctx, m)
	}
	return errs
}

// retryable turns a platform failure into the worker's retry or dead-letter decision.
func retryable(what string, err error) error {
	pe := platform.AsError(err)
	if pe.Kind == platform.Permanent {
		return worker.Dead("%s: %v", what, err)
	}
	return worker.Retry(pe.RetryAfter, fmt.Errorf("%s: %w", what, err))
}
