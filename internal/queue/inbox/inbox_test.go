package inbox_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/queue/inbox"
	queuesqlite "github.com/ponte-hub/ponte/internal/queue/sqlite"
	queuesqs "github.com/ponte-hub/ponte/internal/queue/sqs"
	"github.com/ponte-hub/ponte/internal/store"
	storedynamo "github.com/ponte-hub/ponte/internal/store/dynamodb"
	storesqlite "github.com/ponte-hub/ponte/internal/store/sqlite"
)

// backend is a store and one FIFO queue of a real backend.
type backend struct {
	name  string
	open  func(t *testing.T) (store.Store, queue.Queue)
	local bool
}

func backends() []backend {
	return []backend{
		{name: "embedded", local: true, open: func(t *testing.T) (store.Store, queue.Queue) {
			dir := t.TempDir()
			st, err := storesqlite.Open(t.Context(), filepath.Join(dir, "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			b, err := queuesqlite.OpenBroker(t.Context(), filepath.Join(dir, "queue.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Close() })
			q, err := b.Queue("push-tray", queuesqlite.Config{FIFO: true, VisibilityTimeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			return st, q
		}},
		{name: "aws", open: func(t *testing.T) (store.Store, queue.Queue) {
			endpoint := os.Getenv("PONTE_AWS_ENDPOINT")
			if endpoint == "" {
				t.Skip("PONTE_AWS_ENDPOINT unset; run scripts/aws-emulator.sh start and set it")
			}
			cfg, err := config.LoadDefaultConfig(t.Context(), config.WithRegion("us-east-1"),
				config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
			if err != nil {
				t.Fatal(err)
			}
			ddb := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
			table := fmt.Sprintf("ponte-inbox-%d", time.Now().UnixNano())
			if err := storedynamo.CreateTable(t.Context(), ddb, table); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_, _ = ddb.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
			})
			sqsClient := awssqs.NewFromConfig(cfg, func(o *awssqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
			url, dlq, err := queuesqs.CreateQueuePair(t.Context(), sqsClient, fmt.Sprintf("ponte-inbox-%d", time.Now().UnixNano()), true, time.Second, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				for _, u := range []string{url, dlq} {
					_, _ = sqsClient.DeleteQueue(context.Background(), &awssqs.DeleteQueueInput{QueueUrl: aws.String(u)})
				}
			})
			return storedynamo.New(ddb, table), queuesqs.New(sqsClient, url, dlq)
		}},
	}
}

// receiveAll takes n messages (failing otherwise).
func receiveAll(t *testing.T, q queue.Queue, n int) []queue.Message {
	t.Helper()
	var out []queue.Message
	for deadline := time.Now().Add(20 * time.Second); len(out) < n && time.Now().Before(deadline); {
		got, err := q.Receive(t.Context(), n-len(out), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got...)
	}
	if len(out) != n {
		t.Fatalf("received %d messages, want %d", len(out), n)
	}
	return out
}

// TestInboxNeverHidesAFailure walks the crash windows of dead-lettering on both backends:
// each ends with every failure listed exactly once and the queue's own store emptied.
func TestInboxNeverHidesAFailure(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			st, raw := b.open(t)
			box := &inbox.Inbox{Index: st, Queues: map[string]queue.Queue{raw.Name(): raw}, Log: slog.New(slog.DiscardHandler)}
			q := box.Wrap(raw)
			ctx := t.Context()
			body := func(tenant, conn, sku string) []byte {
				return fmt.Appendf(nil, `{"tenant":%q,"connection":%q,"sku":%q,"rev":1}`, tenant, conn, sku)
			}
			if err := q.Send(ctx,
				queue.OutMessage{Body: body("t1", "c1", "filed"), Group: "c1"},
				queue.OutMessage{Body: body("t1", "c2", "unfiled"), Group: "c2"},
				queue.OutMessage{Body: body("t2", "c3", "other"), Group: "c3"},
				queue.OutMessage{Body: body("t1", "c4", "crashed"), Group: "c4"}); err != nil {
				t.Fatal(err)
			}
			msgs := map[string]queue.Message{}
			for _, m := range receiveAll(t, q, 4) {
				msgs[inbox.KeysOf(m.Body).SKU] = m
			}
			// Through the worker's path: filed, then moved.
			if err := q.DeadLetter(ctx, msgs["filed"], "refused"); err != nil {
				t.Fatal(err)
			}
			if err := q.DeadLetter(ctx, msgs["other"], "refused"); err != nil {
				t.Fatal(err)
			}
			// Moved without filing: a crash right after the move, or the queue's own limit.
			if err := raw.DeadLetter(ctx, msgs["unfiled"], "exceeded receives"); err != nil {
				t.Fatal(err)
			}
			// Filed, then a crash before the move: the message comes back and dies again.
			crashed := msgs["crashed"]
			if err := st.PutDeadLetter(ctx, store.DeadLetter{Tenant: "t1", Connection: "c4", Queue: q.Name(), ID: crashed.ID,
				Reason: "refused", DeadAt: time.Now(), Group: "c4", Body: crashed.Body}); err != nil {
				t.Fatal(err)
			}
			again := receiveAll(t, q, 1)[0] // after the visibility timeout
			if again.ID != crashed.ID {
				t.Fatalf("redelivered id %s, want %s", again.ID, crashed.ID)
			}
			if err := q.DeadLetter(ctx, again, "refused again"); err != nil {
				t.Fatal(err)
			}

			want := map[string]int{"filed": 1, "unfiled": 1, "crashed": 1}
			for range 2 { // a second read files nothing new and duplicates nothing
				rows, next, err := box.List(ctx, "t1", store.DeadLetterFilter{}, "", 10)
				if err != nil || next != "" {
					t.Fatalf("list: %v (next %q)", err, next)
				}
				got := map[string]int{}
				for _, r := range rows {
					got[inbox.KeysOf(r.Body).SKU]++
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("t1 lists %v, want %v", got, want)
				}
			}
			if left, err := raw.ListDead(ctx, 10); err != nil || len(left) != 0 {
				t.Errorf("the queue's own dead letters after collection: %d, %v; want none", len(left), err)
			}
			counts, err := box.Count(ctx, "t2")
			if err != nil || len(counts) != 1 || counts[0].Count != 1 || counts[0].Connection != "c3" {
				t.Errorf("t2 counts %+v, %v; want one on c3", counts, err)
			}

			// Retry of t1's c2 sends exactly that one back and files nothing twice.
			n, err := box.RetryWhere(ctx, "t1", store.DeadLetterFilter{Connection: "c2"})
			if err != nil || n != 1 {
				t.Fatalf("retry c2: %d, %v; want 1", n, err)
			}
			back := receiveAll(t, q, 1)[0]
			if k := inbox.KeysOf(back.Body); k.SKU != "unfiled" {
				t.Errorf("retried %s", back.Body)
			}
			if _, err := box.RetryIDs(ctx, "t2", q.Name(), []string{msgs["filed"].ID}); err == nil {
				t.Errorf("t2 retried t1's failure")
			}
			counts, err = box.Count(ctx, "t1")
			if err != nil || len(counts) != 2 {
				t.Errorf("t1 counts after retry %+v, %v; want c1 and c4", counts, err)
			}
		})
	}
}
