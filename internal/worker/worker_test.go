package worker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ponte-hub/ponte/internal/queue"
	queuesqlite "github.com/ponte-hub/ponte/internal/queue/sqlite"
)

func TestDecide(t *testing.T) {
	p := Policy{MaxAttempts: 3, BaseBackoff: time.Second, MaxBackoff: 8 * time.Second}
	tests := []struct {
		name     string
		attempts int
		err      error
		wantDel  bool
		wantDead string
		minAfter time.Duration
		maxAfter time.Duration
	}{
		{"success deletes", 1, nil, true, "", 0, 0},
		{"dead error dead-letters at once", 1, Dead("bad %s", "body"), false, "bad body", 0, 0},
		{"plain error backs off", 1, errors.New("boom"), false, "", 500 * time.Millisecond, time.Second},
		{"second attempt doubles", 2, errors.New("boom"), false, "", time.Second, 2 * time.Second},
		{"platform hint wins", 2, Retry(42*time.Second, errors.New("429")), false, "", 42 * time.Second, 42 * time.Second},
		{"last attempt dead-letters with the error", 3, errors.New("HTTP 503"), false, "failed 3 times; last error: HTTP 503", 0, 0},
		{"wrapped dead error", 1, errors.Join(errors.New("x"), Dead("gone")), false, "gone", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Decide(queue.Message{Attempts: tt.attempts}, tt.err)
			if d.Delete != tt.wantDel || d.DeadReason != tt.wantDead {
				t.Fatalf("got %+v", d)
			}
			if d.RetryAfter < tt.minAfter || d.RetryAfter > tt.maxAfter {
				t.Fatalf("retry after %s, want within [%s, %s]", d.RetryAfter, tt.minAfter, tt.maxAfter)
			}
		})
	}
}

func TestBackoffCapped(t *testing.T) {
	p := Policy{BaseBackoff: time.Second, MaxBackoff: 5 * time.Minute}
	for attempt := 1; attempt < 100; attempt++ {
		if d := p.Backoff(attempt); d <= 0 || d > 5*time.Minute {
			t.Fatalf("attempt %d: backoff %s", attempt, d)
		}
	}
}

func TestByGroupKeepsOrder(t *testing.T) {
	msgs := []queue.Message{{ID: "1", Group: "a"}, {ID: "2", Group: "b"}, {ID: "3", Group: "a"}, {ID: "4"}, {ID: "5"}}
	got := byGroup(msgs)
	var shape []string
	for _, g := range got {
		var ids []string
		for _, m := range g {
			ids = append(ids, m.ID)
		}
		shape = append(shape, strings.Join(ids, ","))
	}
	if strings.Join(shape, " ") != "1,3 2 4,5" {
		t.Fatalf("groups %q", shape)
	}
}

func openQueue(t *testing.T, fifo bool) queue.Queue {
	t.Helper()
	b, err := queuesqlite.OpenBroker(context.Background(), filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	q, err := b.Queue("work", queuesqlite.Config{FIFO: fifo, VisibilityTimeout: 5 * time.Second, MaxReceives: 50})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

type scripted struct {
	mu    sync.Mutex
	seen  map[string]int
	plans map[string][]error // body -> result per attempt
}

func (s *scripted) Handle(_ context.Context, m queue.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	body := string(m.Body)
	n := s.seen[body]
	s.seen[body]++
	plan := s.plans[body]
	if n < len(plan) {
		return plan[n]
	}
	return nil
}

func (s *scripted) count(body string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[body]
}

func TestLoopSettlesEveryOutcome(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := openQueue(t, false)
	h := &scripted{seen: map[string]int{}, plans: map[string][]error{
		"ok":       {nil},
		"flaky":    {errors.New("HTTP 500"), errors.New("HTTP 502")},
		"poison":   {Dead("cannot parse")},
		"hopeless": {errors.New("down"), errors.New("down"), errors.New("down"), errors.New("down")},
	}}
	for body := range h.plans {
		if err := q.Send(ctx, queue.OutMessage{Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
	}
	loop := &Loop{Queue: q, Handler: Each(h), Concurrency: 2, BatchSize: 10,
		Policy: Policy{MaxAttempts: 3, BaseBackoff: 20 * time.Millisecond, MaxBackoff: 40 * time.Millisecond},
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil))}
	go loop.Run(ctx)

	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		st, err := q.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Waiting == 0 && st.InFlight == 0 && st.Dead == 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	dead, err := q.ListDead(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, d := range dead {
		reasons[string(d.Body)] = d.Reason
	}
	if reasons["poison"] != "cannot parse" || !strings.Contains(reasons["hopeless"], "failed 3 times; last error: down") || len(reasons) != 2 {
		t.Fatalf("dead letters %+v", reasons)
	}
	if h.count("flaky") != 3 || h.count("ok") != 1 || h.count("hopeless") != 3 {
		t.Fatalf("attempts: flaky %d ok %d hopeless %d", h.count("flaky"), h.count("ok"), h.count("hopeless"))
	}
}

type batchFunc func(ctx context.Context, msgs []queue.Message) []error

func (f batchFunc) HandleBatch(ctx context.Context, msgs []queue.Message) []error {
	return f(ctx, msgs)
}

func TestSQSBatchFIFOReturnsFailedGroupTail(t *testing.T) {
	q := openQueue(t, false)
	ctx := context.Background()
	// Receipts must be real for Retry/DeadLetter to act; put the records on the queue first.
	bodies := []string{"a1-fail", "b1", "a2", "b2-dead", "c1"}
	groups := []string{"a", "b", "a", "b", "c"}
	for _, b := range bodies {
		if err := q.Send(ctx, queue.OutMessage{Body: []byte(b)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := q.Receive(ctx, 10, time.Second)
	if err != nil || len(got) != len(bodies) {
		t.Fatalf("receive: %v, %d messages", err, len(got))
	}
	var ev events.SQSEvent
	for _, m := range got {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: string(m.Body), ReceiptHandle: m.Receipt, Body: string(m.Body),
			Attributes: map[string]string{"ApproximateReceiveCount": "1", "MessageGroupId": groups[indexOf(bodies, string(m.Body))]}})
	}
	h := batchFunc(func(_ context.Context, msgs []queue.Message) []error {
		errs := make([]error, len(msgs))
		for i, m := range msgs {
			switch {
			case strings.HasSuffix(string(m.Body), "-fail"):
				errs[i] = errors.New("HTTP 503")
			case strings.HasSuffix(string(m.Body), "-dead"):
				errs[i] = Dead("unmapped SKU")
			}
		}
		return errs
	})
	b := &SQSBatch{Queue: q, Handler: h, Policy: DefaultPolicy, FIFO: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	resp, err := b.Handle(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	// a1 failed, so a2 must come back after it even though it succeeded; b2 is dead-lettered, not failed.
	if strings.Join(failed, ",") != "a1-fail,a2" {
		t.Fatalf("batch item failures %v", failed)
	}
	dead, err := q.ListDead(ctx, 10)
	if err != nil || len(dead) != 1 || dead[0].Reason != "unmapped SKU" {
		t.Fatalf("dead %+v err %v", dead, err)
	}
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

func TestFromSQSRecord(t *testing.T) {
	m := FromSQSRecord(events.SQSMessage{MessageId: "m1", ReceiptHandle: "r1", Body: "{}",
		Attributes: map[string]string{"ApproximateReceiveCount": "4", "SentTimestamp": "1700000000000", "MessageGroupId": "conn-1"}})
	if m.ID != "m1" || m.Receipt != "r1" || m.Attempts != 4 || m.Group != "conn-1" || !m.SentAt.Equal(time.UnixMilli(1700000000000)) {
		t.Fatalf("%+v", m)
	}
	if m := FromSQSRecord(events.SQSMessage{}); m.Attempts != 1 {
		t.Fatalf("missing receive count should count as the first attempt: %+v", m)
	}
}

// A batch stuck behind a slow platform is cut at HandleTimeout and retried, instead of
// running past the visibility timeout and being delivered twice.
func TestLoopBoundsABatchBelowTheVisibilityTimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := openQueue(t, true)
	if err := q.Send(ctx, queue.OutMessage{Body: []byte("slow"), Group: "store-1"}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var deadlines []bool
	h := batchFunc(func(ctx context.Context, msgs []queue.Message) []error {
		_, has := ctx.Deadline()
		mu.Lock()
		deadlines = append(deadlines, has)
		n := len(deadlines)
		mu.Unlock()
		if n == 1 {
			<-ctx.Done() // the platform never answers in time
			return []error{ctx.Err()}
		}
		return []error{nil}
	})
	loop := &Loop{Queue: q, Handler: h, Concurrency: 1, BatchSize: 10, HandleTimeout: 100 * time.Millisecond,
		Policy: Policy{MaxAttempts: 3, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil))}
	go loop.Run(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		st, err := q.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		n := len(deadlines)
		mu.Unlock()
		if n >= 2 && st.Waiting == 0 && st.InFlight == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(deadlines) != 2 || !deadlines[0] || !deadlines[1] {
		t.Fatalf("handled %d times (deadline set: %v); want a bounded first try and one retry", len(deadlines), deadlines)
	}
}
