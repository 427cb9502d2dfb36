// Package queuetest is the contract suite every queue.Queue implementation must pass.
//
// Timings: cases use visibility timeouts of 1-10 s and check delays only with generous
// bounds ("not before 80% of the delay", "within a few seconds"). Cases run in parallel,
// each on its own queue, so the suite takes about as long as its slowest case.
package queuetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/queue"
)

// Config is what a case needs from the queue it is given.
type Config struct {
	FIFO              bool
	VisibilityTimeout time.Duration
	// MaxReceives moves a message to dead letters after this many receives; 0 = unlimited.
	MaxReceives int
}

// Option adjusts the suite to what a backend can observe.
type Option func(*options)

type options struct {
	lenientReceipts bool
}

// LenientReceipts accepts a nil error from Delete/Retry of a receipt the backend cannot
// check (SQS accepts some stale handles), and skips the case that deletes with a stale
// receipt of a re-delivered message, whose effect SQS leaves undefined. A non-nil
// error must still be queue.ErrUnknownReceipt.
func LenientReceipts() Option { return func(o *options) { o.lenientReceipts = true } }

// Run runs every case against fresh queues from newQueue, on a standard and a FIFO queue.
// Cases run concurrently, so newQueue must be safe to call from several goroutines.
func Run(t *testing.T, newQueue func(t *testing.T, cfg Config) queue.Queue, opts ...Option) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	// Cases mostly wait on timeouts, so they run concurrently whatever -parallel says
	// (t.Run may be called from several goroutines).
	var wg sync.WaitGroup
	for _, fifo := range []bool{false, true} {
		kind := "standard"
		if fifo {
			kind = "fifo"
		}
		for _, c := range cases() {
			if (c.fifo == onlyFIFO && !fifo) || (c.fifo == onlyStandard && fifo) {
				continue
			}
			wg.Go(func() {
				t.Run(kind+"/"+c.name, func(t *testing.T) {
					cfg := Config{FIFO: fifo, VisibilityTimeout: c.visibility, MaxReceives: c.maxReceives}
					if cfg.VisibilityTimeout == 0 {
						cfg.VisibilityTimeout = 10 * time.Second
					}
					ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
					defer cancel()
					c.run(ctx, &env{t: t, q: newQueue(t, cfg), cfg: cfg, opts: o})
				})
			})
		}
	}
	wg.Wait()
}

const (
	both = iota
	onlyFIFO
	onlyStandard
)

type testCase struct {
	name        string
	fifo        int
	visibility  time.Duration
	maxReceives int
	run         func(ctx context.Context, e *env)
}

// env is one case's queue plus helpers that fail the test on error.
type env struct {
	t    *testing.T
	q    queue.Queue
	cfg  Config
	opts options
}

// group returns g on FIFO queues and "" on standard ones.
func (e *env) group(g string) string {
	if e.cfg.FIFO {
		return g
	}
	return ""
}

func (e *env) send(ctx context.Context, msgs ...queue.OutMessage) {
	e.t.Helper()
	if err := e.q.Send(ctx, msgs...); err != nil {
		e.t.Fatalf("Send: %v", err)
	}
}

func (e *env) receive(ctx context.Context, max int, wait time.Duration) []queue.Message {
	e.t.Helper()
	msgs, err := e.q.Receive(ctx, max, wait)
	if err != nil {
		e.t.Fatalf("Receive(%d, %v): %v", max, wait, err)
	}
	if len(msgs) > max {
		e.t.Fatalf("Receive(%d) returned %d messages", max, len(msgs))
	}
	return msgs
}

// receiveOne waits up to wait for exactly one message.
func (e *env) receiveOne(ctx context.Context, wait time.Duration) queue.Message {
	e.t.Helper()
	msgs := e.receive(ctx, 1, wait)
	if len(msgs) != 1 {
		e.t.Fatalf("Receive(1, %v): got %d messages, want 1", wait, len(msgs))
	}
	return msgs[0]
}

func (e *env) delete(ctx context.Context, receipt string) {
	e.t.Helper()
	if err := e.q.Delete(ctx, receipt); err != nil {
		e.t.Fatalf("Delete: %v", err)
	}
}

// checkUnknown accepts queue.ErrUnknownReceipt, and nil for lenient backends.
func (e *env) checkUnknown(what string, err error) {
	e.t.Helper()
	if errors.Is(err, queue.ErrUnknownReceipt) || (err == nil && e.opts.lenientReceipts) {
		return
	}
	e.t.Errorf("%s: got %v, want queue.ErrUnknownReceipt", what, err)
}

// drain receives and deletes until no message arrives for quiet, returning bodies in
// delivery order.
func (e *env) drain(ctx context.Context, quiet time.Duration) []string {
	e.t.Helper()
	var bodies []string
	for {
		msgs := e.receive(ctx, 10, quiet)
		if len(msgs) == 0 {
			return bodies
		}
		for _, m := range msgs {
			bodies = append(bodies, string(m.Body))
			e.delete(ctx, m.Receipt)
		}
	}
}

// eventuallyStats polls Stats until want matches (SQS counts are approximate and lag).
func (e *env) eventuallyStats(ctx context.Context, waiting, inFlight, dead int64) {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := e.q.Stats(ctx)
		if err != nil {
			e.t.Fatalf("Stats: %v", err)
		}
		if st.Waiting == waiting && st.InFlight == inFlight && st.Dead == dead {
			if st.Name == "" {
				e.t.Errorf("Stats.Name is empty")
			}
			if st.OldestAge != -1 && (st.OldestAge < 0 || st.OldestAge > time.Hour) {
				e.t.Errorf("Stats.OldestAge = %v, want -1 or a plausible age", st.OldestAge)
			}
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("Stats = %+v, want waiting=%d in_flight=%d dead=%d", st, waiting, inFlight, dead)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// findDead lists dead messages and returns the one with body, failing if absent.
func (e *env) findDead(ctx context.Context, body string) queue.DeadMessage {
	e.t.Helper()
	dead, err := e.q.ListDead(ctx, 100)
	if err != nil {
		e.t.Fatalf("ListDead: %v", err)
	}
	for _, d := range dead {
		if string(d.Body) == body {
			return d
		}
	}
	e.t.Fatalf("ListDead: no message with body %q in %s", body, fmtDead(dead))
	return queue.DeadMessage{}
}

func fmtDead(dead []queue.DeadMessage) string {
	s := "["
	for _, d := range dead {
		s += fmt.Sprintf(" {id=%s body=%q reason=%q attempts=%d}", d.ID, d.Body, d.Reason, d.Attempts)
	}
	return s + " ]"
}

func since(t0 time.Time) time.Duration { return time.Since(t0) }
