package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/queue/queuetest"
)

func openBroker(t testing.TB) *Broker {
	t.Helper()
	b, err := OpenBroker(context.Background(), filepath.Join(t.TempDir(), "queue.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestContract(t *testing.T) {
	// One broker for all cases: many named queues sharing one file is the normal shape.
	b := openBroker(t)
	var n atomic.Int64
	queuetest.Run(t, func(t *testing.T, cfg queuetest.Config) queue.Queue {
		q, err := b.Queue(fmt.Sprintf("q%d", n.Add(1)), Config(cfg))
		if err != nil {
			t.Fatal(err)
		}
		return q
	})
}

// The embedded queue is stricter than the contract: one delivery per coalesced Key, and
// a fixed reason for exceeding max receives.
func TestExactSemantics(t *testing.T) {
	ctx := context.Background()
	b := openBroker(t)
	q, err := b.Queue("push", Config{FIFO: true, VisibilityTimeout: 50 * time.Millisecond, MaxReceives: 1})
	if err != nil {
		t.Fatal(err)
	}
	k := queue.OutMessage{Body: []byte("c|sku"), Group: "c", Key: "c|sku"}
	if err := q.Send(ctx, k, k, k); err != nil {
		t.Fatal(err)
	}
	if err := q.Send(ctx, k); err != nil {
		t.Fatal(err)
	}
	if st, _ := q.Stats(ctx); st.Waiting != 1 {
		t.Fatalf("4 sends of one Key left %d waiting, want 1", st.Waiting)
	}
	m, err := q.Receive(ctx, 10, time.Second)
	if err != nil || len(m) != 1 {
		t.Fatalf("Receive = %d, %v", len(m), err)
	}
	if got, err := q.Receive(ctx, 10, 300*time.Millisecond); err != nil || len(got) != 0 {
		t.Fatalf("second receive over max 1 = %d, %v", len(got), err)
	}
	dead, err := q.ListDead(ctx, 10)
	if err != nil || len(dead) != 1 || dead[0].Reason != "exceeded 1 receives" || dead[0].Attempts != 1 {
		t.Fatalf("ListDead = %+v, %v", dead, err)
	}
	if err := q.Delete(ctx, m[0].Receipt); !errors.Is(err, queue.ErrUnknownReceipt) {
		t.Fatalf("Delete of a dead message's receipt = %v", err)
	}
}

// Everything sent is in the file: a reopened broker delivers it.
func TestSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "queue.db")
	b, err := OpenBroker(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	q, err := b.Queue("changes", Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Send(ctx, queue.OutMessage{Body: []byte("kept")}); err != nil {
		t.Fatal(err)
	}
	_ = b.Close()
	b2, err := OpenBroker(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if _, err := b2.Queue("changes", Config{FIFO: true}); err == nil {
		t.Fatal("reopening a standard queue as FIFO succeeded")
	}
	q2, err := b2.Queue("changes", Config{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := q2.Receive(ctx, 10, time.Second)
	if err != nil || len(m) != 1 || string(m[0].Body) != "kept" {
		t.Fatalf("after reopen: %v, %v", m, err)
	}
}
