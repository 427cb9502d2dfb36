package worker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ponte-hub/ponte/internal/queue"
)

// Loop receives from a queue and runs a handler, for the local server.
type Loop struct {
	Queue       queue.Queue
	Handler     BatchHandler
	Policy      Policy
	Concurrency int
	BatchSize   int
	// HandleTimeout bounds one batch; keep it below the queue's visibility timeout so a
	// batch stuck behind a slow or rate-limited platform is retried, never redelivered
	// while it still runs. Zero means no bound.
	HandleTimeout time.Duration
	Log           *slog.Logger
}

// Run blocks until ctx ends.
func (l *Loop) Run(ctx context.Context) {
	n := l.Concurrency
	if n < 1 {
		n = 1
	}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.poll(ctx)
		}()
	}
	wg.Wait()
}

func (l *Loop) poll(ctx context.Context) {
	batch := l.BatchSize
	if batch < 1 {
		batch = 10
	}
	for ctx.Err() == nil {
		msgs, err := l.Queue.Receive(ctx, batch, time.Second)
		if err != nil {
			if ctx.Err() == nil {
				l.Log.Error("receive failed", "queue", l.Queue.Name(), "err", err)
				sleep(ctx, 500*time.Millisecond)
			}
			continue
		}
		l.handle(ctx, msgs)
	}
}

// handle runs each group of a received batch concurrently (groups are independent:
// different stores) and settles every message.
func (l *Loop) handle(ctx context.Context, msgs []queue.Message) {
	groups := byGroup(msgs)
	var wg sync.WaitGroup
	for _, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hctx, cancel := ctx, context.CancelFunc(func() {})
			if l.HandleTimeout > 0 {
				hctx, cancel = context.WithTimeout(ctx, l.HandleTimeout)
			}
			errs := l.Handler.HandleBatch(hctx, g)
			cancel()
			for i, m := range g {
				l.settle(ctx, m, errs[i])
			}
		}()
	}
	wg.Wait()
}

func (l *Loop) settle(ctx context.Context, m queue.Message, err error) {
	d := l.Policy.Decide(m, err)
	// Acknowledge with a context that outlives a shutdown signal so finished work is not redone.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var aerr error
	switch {
	case d.Delete:
		aerr = l.Queue.Delete(actx, m.Receipt)
	case d.DeadReason != "":
		l.Log.Warn("message dead-lettered", "queue", l.Queue.Name(), "message_id", m.ID, "attempts", m.Attempts, "reason", d.DeadReason)
		aerr = l.Queue.DeadLetter(actx, m, d.DeadReason)
	default:
		l.Log.Info("message retry scheduled", "queue", l.Queue.Name(), "message_id", m.ID, "attempts", m.Attempts, "after", d.RetryAfter.String(), "err", err)
		aerr = l.Queue.Retry(actx, m.Receipt, d.RetryAfter)
	}
	if aerr != nil {
		l.Log.Error("acknowledge failed", "queue", l.Queue.Name(), "message_id", m.ID, "err", aerr)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
