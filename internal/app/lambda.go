package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/ponte-hub/ponte/internal/httpapi"
	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/reconcile"
	"github.com/ponte-hub/ponte/internal/worker"
)

// StartLambda is every functions/*/main.go: it opens the hub from the environment and
// serves the handler pick returns. A start-up failure is logged and exits non-zero, so
// Lambda reports an init error instead of serving a half-built function.
func StartLambda(pick func(*Hub) (any, error)) {
	log := Logger()
	hub, err := OpenAWS(context.Background(), AWSConfigFromEnv(), log)
	if err == nil {
		var handler any
		if handler, err = pick(hub); err == nil {
			lambda.Start(handler)
			return
		}
	}
	log.Error("start failed", "err", err)
	os.Exit(1)
}

// Logger is the JSON logger every entry point uses; PONTE_LOG_LEVEL=debug|info|warn|error.
func Logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(envOr("PONTE_LOG_LEVEL", "info"))); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}

// DeadlineReserve is kept back from an invocation's deadline for what must run after
// the platform calls: recording what a platform accepted (push.Service records on a
// context that outlives the batch's), settling each message (retry, dead-letter) and
// flushing metrics. Every platform call of an invocation runs on a context that ends
// this long before Lambda would stop it, so a hung call is cut and those steps still run.
const DeadlineReserve = 3 * time.Second

// withinBudget returns ctx ending DeadlineReserve before its deadline (ctx itself when it
// has none, as in `ponte serve`, whose loops bound each batch themselves).
func withinBudget(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, deadline.Add(-DeadlineReserve))
}

// budgeted runs a batch handler within the invocation's budget; the SQS batch settles
// its messages on the invocation's own context, after the handler returned.
type budgeted struct{ next worker.BatchHandler }

func (b budgeted) HandleBatch(ctx context.Context, msgs []queue.Message) []error {
	ctx, cancel := withinBudget(ctx)
	defer cancel()
	return b.next.HandleBatch(ctx, msgs)
}

// HTTPFunction is the Lambda handler of the HTTP API function. Handlers run within the
// invocation's budget, so a platform read (the SKU view) that hangs is answered as a
// platform error instead of ending the invocation without an answer.
func (h *Hub) HTTPFunction() func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	serve := httpapi.LambdaHTTP{Handler: h.API.Handler()}.Handle
	return withMetrics(h, os.Stdout, func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		ctx, cancel := withinBudget(ctx)
		defer cancel()
		return serve(ctx, req)
	})
}

// sqsFunction is the Lambda handler of a queue consumer: the handler runs within the
// invocation's budget, and every retry is logged and counted (worker.RetryMetric).
func (h *Hub) sqsFunction(q queue.Queue, handler worker.BatchHandler, fifo bool) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	b := &worker.SQSBatch{Queue: q, Handler: budgeted{handler}, Policy: worker.DefaultPolicy, FIFO: fifo, Log: h.Log,
		Retries: h.Metrics.Counter(worker.RetryMetric, "Messages handed back to their queue for a retry.", worker.RetryMetricQueueLabel)}
	return withMetrics(h, os.Stdout, b.Handle)
}

// FanoutFunction is the Lambda handler of the changes-queue consumer.
func (h *Hub) FanoutFunction() func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return h.sqsFunction(h.Changes, h.Fanout, false)
}

// PushFunction is the Lambda handler of one platform's push-queue consumer (FIFO).
func (h *Hub) PushFunction(platformName string) (func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), error) {
	q, ok := h.PushQueues[platformName]
	if !ok {
		return nil, fmt.Errorf("no push queue for platform %q", platformName)
	}
	return h.sqsFunction(q, h.Pusher, true), nil
}

// OrdersFunction is the Lambda handler of the orders-queue consumer (deliveries,
// write-backs, reservation releases).
func (h *Hub) OrdersFunction() func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return h.sqsFunction(h.OrderQueue, h.Orders, false)
}

// EventsFunction is the Lambda handler of the outgoing-webhooks queue (FIFO per endpoint).
func (h *Hub) EventsFunction() func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return h.sqsFunction(h.EventQueue, worker.Each(h.Dispatcher), true)
}

// OrderPollResult is what the scheduled order-poll function returns.
type OrderPollResult struct {
	Polled int `json:"polled"`
	Swept  int `json:"swept"`
}

// OrderPollFunction is the scheduled handler that takes orders from platforms without
// webhooks (Mercos) and re-queues deliveries a crash left unprocessed.
func (h *Hub) OrderPollFunction() func(context.Context, struct{}) (OrderPollResult, error) {
	return withMetrics(h, os.Stdout, func(ctx context.Context, _ struct{}) (OrderPollResult, error) {
		var res OrderPollResult
		var err error
		if res.Swept, err = h.Orders.Sweep(ctx); err != nil {
			h.Log.Error("order sweep failed", "err", err)
		}
		res.Polled, err = h.Orders.PollAll(ctx)
		return res, err
	})
}

// ReconcileEvent is the scheduler's input to the reconcile function: a connection id, or
// "*" for every enabled connection that is due by its reconcile_interval (or has a
// crashed run to resume).
type ReconcileEvent struct {
	Connection string `json:"connection"`
}

// ReconcileResult is what the reconcile function returns (and logs): one report per
// connection run.
type ReconcileResult struct {
	Reports []reconcile.Report `json:"reports"`
}

// ReconcileFunction is the Lambda handler of the scheduled reconciliation. A connection
// that fails is reported (and logged) without failing the invocation when "*" runs the due
// ones, so one unreachable store does not make the scheduler repeat every other one; a
// single connection's failure, a bad input or an unreadable tenant list fail it.
func (h *Hub) ReconcileFunction() func(context.Context, ReconcileEvent) (ReconcileResult, error) {
	return withMetrics(h, os.Stdout, func(ctx context.Context, ev ReconcileEvent) (ReconcileResult, error) {
		switch ev.Connection {
		case "":
			return ReconcileResult{}, fmt.Errorf(`reconcile: the input names no connection (want {"connection":"<id>"} or {"connection":"*"})`)
		case "*":
			reports, err := h.Reconcile.RunDue(ctx)
			// The same tick works started and crashed first syncs, stopping in time to
			// save the page in hand; the next tick resumes what is left.
			if fsErr := h.firstSyncsWithin(ctx, 20*time.Second); fsErr != nil && ctx.Err() == nil {
				h.Log.Error("first sync: some runs failed", "err", fsErr)
			}
			if err != nil {
				h.Log.Error("reconcile: some connections failed", "err", err)
				if reports == nil {
					return ReconcileResult{}, err
				}
			}
			return ReconcileResult{Reports: reports}, nil
		default:
			rep, err := h.Reconcile.Run(ctx, ev.Connection)
			return ReconcileResult{Reports: []reconcile.Report{rep}}, err
		}
	})
}

// withMetrics flushes what an invocation recorded as CloudWatch Embedded Metric Format
// lines on w (stdout: Lambda ships it to CloudWatch Logs, which extracts the metrics),
// after the handler returns, whatever it returned. PONTE_METRICS_NAMESPACE names the
// namespace (default Ponte).
func withMetrics[E, R any](h *Hub, w io.Writer, f func(context.Context, E) (R, error)) func(context.Context, E) (R, error) {
	ns := envOr("PONTE_METRICS_NAMESPACE", "Ponte")
	return func(ctx context.Context, ev E) (R, error) {
		defer func() {
			if err := h.Metrics.FlushEMF(w, ns, time.Now()); err != nil {
				h.Log.Warn("metrics flush failed", "err", err)
			}
		}()
		return f(ctx, ev)
	}
}
