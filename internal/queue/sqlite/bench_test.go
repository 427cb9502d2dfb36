package sqlite

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/queue"
)

// BenchmarkSend1000 sends 1,000 keyed FIFO messages in one call (one transaction).
func BenchmarkSend1000(b *testing.B) {
	ctx := context.Background()
	q, err := openBroker(b).Queue("push", Config{FIFO: true})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		msgs := make([]queue.OutMessage, 1000)
		for i := range msgs {
			n++
			body := fmt.Sprintf("conn-%d|sku-%d", n%10, n)
			msgs[i] = queue.OutMessage{Body: []byte(body), Group: fmt.Sprintf("conn-%d", n%10), Key: body}
		}
		if err := q.Send(ctx, msgs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkReceiveDelete drains b.N messages spread over 10 groups with Receive(100)
// and one Delete per message, by 1 or 4 consumers. On a FIFO queue a Receive returns at
// most one message per group (10 here).
func BenchmarkReceiveDelete(b *testing.B) {
	for _, fifo := range []bool{true, false} {
		for _, workers := range []int{1, 4} {
			b.Run(fmt.Sprintf("fifo=%t/workers=%d", fifo, workers), func(b *testing.B) {
				benchDrain(b, fifo, workers)
			})
		}
	}
}

func benchDrain(b *testing.B, fifo bool, workers int) {
	ctx := context.Background()
	q, err := openBroker(b).Queue("push", Config{FIFO: fifo, VisibilityTimeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	msgs := make([]queue.OutMessage, 0, 1000)
	for i := 0; i < b.N; i++ {
		g := fmt.Sprintf("conn-%d", i%10)
		msgs = append(msgs, queue.OutMessage{Body: []byte(fmt.Sprintf("%s|sku-%d", g, i)), Group: g})
		if len(msgs) == cap(msgs) || i == b.N-1 {
			if err := q.Send(ctx, msgs...); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	b.ResetTimer()
	var mu sync.Mutex
	left := b.N
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				done := left <= 0
				mu.Unlock()
				if done {
					return
				}
				got, err := q.Receive(ctx, 100, 10*time.Millisecond)
				if err != nil {
					b.Error(err)
					return
				}
				for _, m := range got {
					if err := q.Delete(ctx, m.Receipt); err != nil {
						b.Error(err)
						return
					}
				}
				mu.Lock()
				left -= len(got)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
