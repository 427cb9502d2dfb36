package queuetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ponte-hub/ponte/internal/queue"
)

func cases() []testCase {
	return []testCase{
		{name: "round trip", visibility: 2 * time.Second, run: roundTrip},
		{name: "redelivered after visibility timeout", visibility: time.Second, run: redelivery},
		{name: "retry after delay", run: retryDelay},
		{name: "unknown receipt", run: unknownReceipt},
		{name: "batch send", run: batchSend},
		{name: "long poll", run: longPoll},
		{name: "key coalescing", run: keyCoalescing},
		{name: "dead letter", visibility: time.Second, run: deadLetter},
		{name: "redrive", run: redrive},
		{name: "take dead", run: takeDead},
		{name: "dedup id lets a body back in", fifo: onlyFIFO, run: dedupID},
		{name: "max receives", visibility: time.Second, maxReceives: 2, run: maxReceives},
		{name: "stats", run: stats},
		{name: "fifo group order", fifo: onlyFIFO, run: fifoGroups},
		{name: "fifo needs group", fifo: onlyFIFO, run: fifoNeedsGroup},
		{name: "delay", fifo: onlyStandard, run: delay},
	}
}

func roundTrip(ctx context.Context, e *env) {
	before := time.Now()
	e.send(ctx, queue.OutMessage{Body: []byte(`{"sku":"A-1"}`), Group: e.group("conn-1")})
	m := e.receiveOne(ctx, 5*time.Second)
	if string(m.Body) != `{"sku":"A-1"}` || m.Group != e.group("conn-1") || m.Attempts != 1 {
		e.t.Errorf("got body=%q group=%q attempts=%d", m.Body, m.Group, m.Attempts)
	}
	if m.ID == "" || m.Receipt == "" {
		e.t.Errorf("empty ID %q or receipt %q", m.ID, m.Receipt)
	}
	// One second of slack either side: SQS timestamps are in milliseconds and come from the server.
	if m.SentAt.Before(before.Add(-time.Second)) || m.SentAt.After(time.Now().Add(time.Second)) {
		e.t.Errorf("SentAt %v not around the send at %v", m.SentAt, before)
	}
	e.delete(ctx, m.Receipt)
	if again := e.receive(ctx, 10, e.cfg.VisibilityTimeout+time.Second); len(again) != 0 {
		e.t.Errorf("deleted message came back: %q", again[0].Body)
	}
}

func redelivery(ctx context.Context, e *env) {
	e.send(ctx, queue.OutMessage{Body: []byte("again"), Group: e.group("g")})
	first := e.receiveOne(ctx, 5*time.Second)
	t0 := time.Now()
	second := e.receiveOne(ctx, 3*e.cfg.VisibilityTimeout+3*time.Second)
	if d := since(t0); d < e.cfg.VisibilityTimeout*8/10 {
		e.t.Errorf("re-delivered after %v, before the visibility timeout %v", d, e.cfg.VisibilityTimeout)
	}
	if second.ID != first.ID || second.Attempts != 2 || second.Receipt == first.Receipt {
		e.t.Errorf("second delivery: id %s (first %s), attempts %d, receipt changed %t",
			second.ID, first.ID, second.Attempts, second.Receipt != first.Receipt)
	}
	if !e.opts.lenientReceipts {
		e.checkUnknown("Delete with the receipt of an earlier delivery", e.q.Delete(ctx, first.Receipt))
	}
	e.delete(ctx, second.Receipt)
}

func retryDelay(ctx context.Context, e *env) {
	e.send(ctx, queue.OutMessage{Body: []byte("retry me"), Group: e.group("g")})
	m := e.receiveOne(ctx, 5*time.Second)
	t0 := time.Now()
	if err := e.q.Retry(ctx, m.Receipt, time.Second); err != nil {
		e.t.Fatalf("Retry: %v", err)
	}
	m2 := e.receiveOne(ctx, 5*time.Second)
	if d := since(t0); d < 800*time.Millisecond {
		e.t.Errorf("visible again after %v, before the 1s retry delay", d)
	}
	if m2.ID != m.ID || m2.Attempts != 2 {
		e.t.Errorf("after Retry: id %s (want %s), attempts %d (want 2)", m2.ID, m.ID, m2.Attempts)
	}
	// Retry(0) releases at once: far sooner than the 10s visibility timeout.
	t1 := time.Now()
	if err := e.q.Retry(ctx, m2.Receipt, 0); err != nil {
		e.t.Fatalf("Retry(0): %v", err)
	}
	m3 := e.receiveOne(ctx, 5*time.Second)
	if d := since(t1); d > e.cfg.VisibilityTimeout/2 {
		e.t.Errorf("Retry(0) took %v to release", d)
	}
	if m3.Attempts != 3 {
		e.t.Errorf("attempts after two retries = %d, want 3", m3.Attempts)
	}
	e.delete(ctx, m3.Receipt)
}

func unknownReceipt(ctx context.Context, e *env) {
	e.checkUnknown("Delete(bogus)", e.q.Delete(ctx, "no-such-receipt"))
	e.checkUnknown("Retry(bogus)", e.q.Retry(ctx, "no-such-receipt", 0))
	e.send(ctx, queue.OutMessage{Body: []byte("gone"), Group: e.group("g")})
	m := e.receiveOne(ctx, 5*time.Second)
	e.delete(ctx, m.Receipt)
	e.checkUnknown("Delete after Delete", e.q.Delete(ctx, m.Receipt))
	e.checkUnknown("Retry after Delete", e.q.Retry(ctx, m.Receipt, 0))
}

func batchSend(ctx context.Context, e *env) {
	var msgs []queue.OutMessage
	want := map[string]bool{}
	for i := range 25 {
		b := fmt.Sprintf("item-%02d", i)
		want[b] = true
		msgs = append(msgs, queue.OutMessage{Body: []byte(b), Group: e.group(fmt.Sprintf("g%d", i%5))})
	}
	e.send(ctx, msgs...)
	got := e.drain(ctx, 2*time.Second)
	for _, b := range got {
		delete(want, b)
	}
	if len(want) != 0 {
		e.t.Errorf("never received %d of 25 messages: %v", len(want), want)
	}
}

func longPoll(ctx context.Context, e *env) {
	t0 := time.Now()
	if msgs := e.receive(ctx, 10, time.Second); len(msgs) != 0 {
		e.t.Fatalf("empty queue returned %d messages", len(msgs))
	}
	if d := since(t0); d < 800*time.Millisecond || d > 6*time.Second {
		e.t.Errorf("Receive(wait 1s) on an empty queue returned after %v", d)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = e.q.Send(ctx, queue.OutMessage{Body: []byte("wake"), Group: e.group("g")})
	}()
	t1 := time.Now()
	m := e.receiveOne(ctx, 15*time.Second)
	if d := since(t1); d > 5*time.Second {
		e.t.Errorf("long poll returned %v after start, long after the send at 300ms", d)
	}
	e.delete(ctx, m.Receipt)
}

// keyCoalescing: same Key twice while waiting is delivered once or twice; a send with
// the Key of an in-flight message (new work, so a new body) must not be lost.
func keyCoalescing(ctx context.Context, e *env) {
	m := queue.OutMessage{Body: []byte("conn-1|sku-1|v1"), Key: "conn-1|sku-1", Group: e.group("conn-1")}
	e.send(ctx, m)
	e.send(ctx, m)
	if got := e.drain(ctx, 2*time.Second); len(got) < 1 || len(got) > 2 {
		e.t.Errorf("same Key sent twice was delivered %d times, want 1 or 2", len(got))
	}
	e.send(ctx, queue.OutMessage{Body: []byte("conn-1|sku-1|v2"), Key: "conn-1|sku-1", Group: e.group("conn-1")})
	inFlight := e.receiveOne(ctx, 5*time.Second)
	e.send(ctx, queue.OutMessage{Body: []byte("conn-1|sku-1|v3"), Key: "conn-1|sku-1", Group: e.group("conn-1")})
	e.delete(ctx, inFlight.Receipt)
	if got := e.drain(ctx, 2*time.Second); !slices.Contains(got, "conn-1|sku-1|v3") {
		e.t.Errorf("send with the Key of an in-flight message was lost; got %q", got)
	}
}

func deadLetter(ctx context.Context, e *env) {
	e.send(ctx, queue.OutMessage{Body: []byte("poison"), Group: e.group("g1")},
		queue.OutMessage{Body: []byte("fine"), Group: e.group("g2")})
	var poison queue.Message
	for poison.ID == "" {
		for _, m := range e.receive(ctx, 10, 5*time.Second) {
			if string(m.Body) == "poison" {
				poison = m
			} else {
				e.delete(ctx, m.Receipt)
			}
		}
	}
	if err := e.q.DeadLetter(ctx, poison, "price missing for sku A-1"); err != nil {
		e.t.Fatalf("DeadLetter: %v", err)
	}
	d := e.findDead(ctx, "poison")
	if d.Reason != "price missing for sku A-1" || d.Attempts != 1 || d.Group != e.group("g1") || d.ID == "" {
		e.t.Errorf("dead message: %+v", d)
	}
	// Wait past the visibility timeout: a dead message must not come back.
	if got := e.drain(ctx, e.cfg.VisibilityTimeout+1500*time.Millisecond); slices.Contains(got, "poison") {
		e.t.Errorf("dead-lettered message was received again")
	}
	e.eventuallyStats(ctx, 0, 0, 1)
}

func redrive(ctx context.Context, e *env) {
	e.send(ctx, queue.OutMessage{Body: []byte("A"), Group: e.group("a")},
		queue.OutMessage{Body: []byte("B"), Group: e.group("b")})
	for n := 0; n < 2; {
		for _, m := range e.receive(ctx, 10, 5*time.Second) {
			if err := e.q.DeadLetter(ctx, m, "failed "+string(m.Body)); err != nil {
				e.t.Fatalf("DeadLetter: %v", err)
			}
			n++
		}
	}
	a := e.findDead(ctx, "A")
	e.findDead(ctx, "B")
	if n, err := e.q.Redrive(ctx, []string{a.ID}); err != nil || n != 1 {
		e.t.Fatalf("Redrive([A]) = %d, %v; want 1", n, err)
	}
	got := e.receiveOne(ctx, 5*time.Second)
	if string(got.Body) != "A" || got.Attempts != 1 || got.Group != e.group("a") {
		e.t.Errorf("redriven: body %q attempts %d group %q", got.Body, got.Attempts, got.Group)
	}
	e.delete(ctx, got.Receipt)
	if dead, err := e.q.ListDead(ctx, 10); err != nil || len(dead) != 1 || string(dead[0].Body) != "B" {
		e.t.Fatalf("ListDead after Redrive([A]) = %s, %v; want only B", fmtDead(dead), err)
	}
	if n, err := e.q.Redrive(ctx, nil); err != nil || n != 1 {
		e.t.Fatalf("Redrive(nil) = %d, %v; want 1", n, err)
	}
	got = e.receiveOne(ctx, 5*time.Second)
	if string(got.Body) != "B" {
		e.t.Errorf("redriven: body %q, want B", got.Body)
	}
	e.delete(ctx, got.Receipt)
	if dead, err := e.q.ListDead(ctx, 10); err != nil || len(dead) != 0 {
		e.t.Errorf("ListDead after Redrive(nil) = %s, %v; want none", fmtDead(dead), err)
	}
}

func maxReceives(ctx context.Context, e *env) {
	e.send(ctx, queue.OutMessage{Body: []byte("flaky"), Group: e.group("g")})
	var id string
	for i := 1; i <= e.cfg.MaxReceives; i++ {
		m := e.receiveOne(ctx, 3*e.cfg.VisibilityTimeout+3*time.Second)
		if m.Attempts != i {
			e.t.Errorf("receive %d: attempts %d", i, m.Attempts)
		}
		id = m.ID
	}
	// The next receive would exceed MaxReceives: the message goes to dead letters instead.
	if got := e.receive(ctx, 10, 2*e.cfg.VisibilityTimeout+2*time.Second); len(got) != 0 {
		e.t.Fatalf("received %q (attempts %d) beyond max receives %d", got[0].Body, got[0].Attempts, e.cfg.MaxReceives)
	}
	d := e.findDead(ctx, "flaky")
	if d.ID != id {
		e.t.Errorf("dead after max receives has id %q, want the message's id %q", d.ID, id)
	}
	if d.Reason == "" || d.Attempts < e.cfg.MaxReceives {
		e.t.Errorf("dead after max receives: reason %q attempts %d", d.Reason, d.Attempts)
	}
	e.t.Logf("dead after max receives: reason %q, attempts %d", d.Reason, d.Attempts)
	e.eventuallyStats(ctx, 0, 0, 1)
}

func stats(ctx context.Context, e *env) {
	e.eventuallyStats(ctx, 0, 0, 0)
	e.send(ctx, queue.OutMessage{Body: []byte("s1"), Group: e.group("g1")},
		queue.OutMessage{Body: []byte("s2"), Group: e.group("g2")},
		queue.OutMessage{Body: []byte("s3"), Group: e.group("g3")})
	m := e.receiveOne(ctx, 5*time.Second)
	e.eventuallyStats(ctx, 2, 1, 0)
	if err := e.q.DeadLetter(ctx, m, "stats"); err != nil {
		e.t.Fatalf("DeadLetter: %v", err)
	}
	e.eventuallyStats(ctx, 2, 0, 1)
}

func fifoGroups(ctx context.Context, e *env) {
	var msgs []queue.OutMessage
	for _, b := range []string{"a1", "b1", "a2", "a3", "b2"} {
		msgs = append(msgs, queue.OutMessage{Body: []byte(b), Group: b[:1]})
	}
	e.send(ctx, msgs...)
	// One at a time, so a backend that returns several messages of a group in one batch
	// (SQS does) is held to the same rule as one that never does.
	first := e.receiveOne(ctx, 5*time.Second)
	second := e.receiveOne(ctx, 5*time.Second)
	heads := []string{string(first.Body), string(second.Body)}
	slices.Sort(heads)
	if !slices.Equal(heads, []string{"a1", "b1"}) {
		e.t.Fatalf("first deliveries %q, want the head of each group [a1 b1]", heads)
	}
	if got := e.receive(ctx, 10, time.Second); len(got) != 0 {
		e.t.Fatalf("delivered %q while its group had a message in flight", got[0].Body)
	}
	a1, b1 := first, second
	if string(a1.Body) != "a1" {
		a1, b1 = second, first
	}
	e.delete(ctx, a1.Receipt)
	next := e.receive(ctx, 10, 5*time.Second)
	if len(next) == 0 || string(next[0].Body) != "a2" {
		e.t.Fatalf("after deleting a1 got %d messages, want a2 first", len(next))
	}
	order := map[string][]string{"a": {"a1"}, "b": {"b1"}}
	for _, m := range next {
		order[m.Group] = append(order[m.Group], string(m.Body))
		e.delete(ctx, m.Receipt)
	}
	e.delete(ctx, b1.Receipt)
	for _, b := range e.drain(ctx, 2*time.Second) {
		order[b[:1]] = append(order[b[:1]], b)
	}
	if !slices.Equal(order["a"], []string{"a1", "a2", "a3"}) || !slices.Equal(order["b"], []string{"b1", "b2"}) {
		e.t.Errorf("per-group order %v", order)
	}
}

func fifoNeedsGroup(ctx context.Context, e *env) {
	if err := e.q.Send(ctx, queue.OutMessage{Body: []byte("no group")}); err == nil {
		e.t.Errorf("Send without Group to a FIFO queue succeeded")
	}
}

func delay(ctx context.Context, e *env) {
	t0 := time.Now()
	e.send(ctx, queue.OutMessage{Body: []byte("later"), Delay: time.Second})
	m := e.receiveOne(ctx, 5*time.Second)
	if d := since(t0); d < 800*time.Millisecond {
		e.t.Errorf("delayed message delivered after %v, before its 1s delay", d)
	}
	e.delete(ctx, m.Receipt)
}

// takeDead: dead messages keep their queue id, a refused filing keeps them, an accepted
// one removes them.
func takeDead(ctx context.Context, e *env) {
	e.send(ctx, queue.OutMessage{Body: []byte("T1"), Group: e.group("a")},
		queue.OutMessage{Body: []byte("T2"), Group: e.group("b")})
	ids := map[string]string{}
	for len(ids) < 2 {
		for _, m := range e.receive(ctx, 10, 5*time.Second) {
			ids[string(m.Body)] = m.ID
			if err := e.q.DeadLetter(ctx, m, "failed "+string(m.Body)); err != nil {
				e.t.Fatalf("DeadLetter: %v", err)
			}
		}
	}
	refused := errors.New("index unavailable")
	n, err := e.q.TakeDead(ctx, 10, func(context.Context, []queue.DeadMessage) error { return refused })
	if !errors.Is(err, refused) || n != 0 {
		e.t.Fatalf("TakeDead with a refusing file = %d, %v; want 0 and its error", n, err)
	}
	e.findDead(ctx, "T1")
	e.findDead(ctx, "T2")
	filed := map[string]queue.DeadMessage{}
	for deadline := time.Now().Add(20 * time.Second); len(filed) < 2 && time.Now().Before(deadline); {
		// After the refusal SQS may hold the messages back briefly; take until both came.
		_, err = e.q.TakeDead(ctx, 10, func(_ context.Context, dead []queue.DeadMessage) error {
			for _, d := range dead {
				filed[string(d.Body)] = d
			}
			return nil
		})
		if err != nil {
			e.t.Fatalf("TakeDead: %v", err)
		}
	}
	for body, id := range ids {
		d, ok := filed[body]
		switch {
		case !ok:
			e.t.Errorf("TakeDead never handed out %s; filed %v", body, filed)
		case d.ID != id || d.Reason != "failed "+body || d.Group != e.group(map[string]string{"T1": "a", "T2": "b"}[body]):
			e.t.Errorf("filed %s: id %q reason %q group %q; want id %q (the queue's)", body, d.ID, d.Reason, d.Group, id)
		}
	}
	if dead, err := e.q.ListDead(ctx, 10); err != nil || len(dead) != 0 {
		e.t.Errorf("ListDead after TakeDead = %s, %v; want none", fmtDead(dead), err)
	}
	if n, err := e.q.TakeDead(ctx, 10, func(context.Context, []queue.DeadMessage) error { return nil }); err != nil || n != 0 {
		e.t.Errorf("TakeDead of an empty store = %d, %v; want 0", n, err)
	}
	e.eventuallyStats(ctx, 0, 0, 0)
}

// dedupID: a body sent again with a DedupID arrives even right after the same body was
// delivered (SQS FIFO would drop it as a duplicate of the first for five minutes).
func dedupID(ctx context.Context, e *env) {
	e.send(ctx, queue.OutMessage{Body: []byte("same"), Group: "g"})
	e.delete(ctx, e.receiveOne(ctx, 5*time.Second).Receipt)
	e.send(ctx, queue.OutMessage{Body: []byte("same"), Group: "g", DedupID: "retry-of-1"})
	if got := e.receiveOne(ctx, 5*time.Second); string(got.Body) != "same" {
		e.t.Errorf("got %q", got.Body)
	}
}
