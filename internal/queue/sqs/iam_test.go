package sqs

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ponte-hub/ponte/internal/awstrace"
	"github.com/ponte-hub/ponte/internal/queue"
)

// Every method of the queue port has its IAM row, and nothing else does.
func TestMethodGrantsCoverThePort(t *testing.T) {
	port := reflect.TypeFor[queue.Queue]()
	want := map[string]bool{}
	for i := range port.NumMethod() {
		want[port.Method(i).Name] = true
	}
	for m := range MethodGrants {
		if !want[m] {
			t.Errorf("MethodGrants has %s, which queue.Queue does not", m)
		}
		delete(want, m)
	}
	for m := range want {
		t.Errorf("queue.Queue.%s has no row in MethodGrants", m)
	}
	if _, unknown := GrantsFor("Send", "Frobnicate"); fmt.Sprint(unknown) != "[Frobnicate]" {
		t.Errorf("GrantsFor refuses unknown methods: %v", unknown)
	}
}

// Each method's row is exactly the set of actions it makes on SQS (on moto): run each
// method with the state that takes it down its longest path and record the API calls.
func TestMethodGrantsMatchTheCallsMade(t *testing.T) {
	base, _ := client(t)
	for _, fifo := range []bool{false, true} {
		rec := &awstrace.Recorder{}
		c := sqs.New(base.Options(), func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, rec.Middleware) })
		ctx := context.Background()
		// Each body is its own group, so no FIFO group lock holds a later message back.
		send := func(t *testing.T, q *Queue, body string) {
			t.Helper()
			if err := q.Send(ctx, queue.OutMessage{Body: []byte(body), Group: body}); err != nil {
				t.Fatal(err)
			}
		}
		receive := func(t *testing.T, q *Queue) queue.Message {
			t.Helper()
			msgs, err := q.Receive(ctx, 1, 5*time.Second)
			if err != nil || len(msgs) != 1 {
				t.Fatalf("receive: %v %v", msgs, err)
			}
			return msgs[0]
		}
		// dead puts two messages in the DLQ and returns the DLQ id of one.
		dead := func(t *testing.T, q *Queue) string {
			t.Helper()
			for i := range 2 {
				send(t, q, fmt.Sprintf("dead-%d", i))
				if err := q.DeadLetter(ctx, receive(t, q), "test"); err != nil {
					t.Fatal(err)
				}
			}
			listed, err := q.ListDead(ctx, 10)
			if err != nil || len(listed) != 2 {
				t.Fatalf("list dead: %v %v", listed, err)
			}
			return listed[0].ID
		}
		cases := []struct {
			method string
			setup  func(t *testing.T, q *Queue) func() error
		}{
			{"Send", func(t *testing.T, q *Queue) func() error {
				return func() error { return q.Send(ctx, queue.OutMessage{Body: []byte("a"), Group: "g1"}) }
			}},
			{"Receive", func(t *testing.T, q *Queue) func() error {
				send(t, q, "r")
				return func() error { _, err := q.Receive(ctx, 1, time.Second); return err }
			}},
			{"Delete", func(t *testing.T, q *Queue) func() error {
				send(t, q, "d")
				m := receive(t, q)
				return func() error { return q.Delete(ctx, m.Receipt) }
			}},
			{"Retry", func(t *testing.T, q *Queue) func() error {
				send(t, q, "t")
				m := receive(t, q)
				return func() error { return q.Retry(ctx, m.Receipt, time.Second) }
			}},
			{"DeadLetter", func(t *testing.T, q *Queue) func() error {
				send(t, q, "x")
				m := receive(t, q)
				return func() error { return q.DeadLetter(ctx, m, "test") }
			}},
			{"ListDead", func(t *testing.T, q *Queue) func() error {
				dead(t, q)
				return func() error { _, err := q.ListDead(ctx, 10); return err }
			}},
			{"Redrive", func(t *testing.T, q *Queue) func() error {
				id := dead(t, q) // the other one is kept and released
				return func() error { _, err := q.Redrive(ctx, []string{id}); return err }
			}},
			{"TakeDead", func(t *testing.T, q *Queue) func() error {
				dead(t, q)
				// Refused (released), then filed (deleted): both of its paths.
				return func() error {
					refused := fmt.Errorf("refused")
					if _, err := q.TakeDead(ctx, 10, func(context.Context, []queue.DeadMessage) error { return refused }); err == nil {
						return fmt.Errorf("a refused batch was not reported")
					}
					n, err := q.TakeDead(ctx, 10, func(context.Context, []queue.DeadMessage) error { return nil })
					if err == nil && n == 0 {
						return fmt.Errorf("nothing taken")
					}
					return err
				}
			}},
			{"Stats", func(t *testing.T, q *Queue) func() error {
				return func() error { _, err := q.Stats(ctx); return err }
			}},
			{"Name", func(t *testing.T, q *Queue) func() error {
				return func() error { _ = q.Name(); return nil }
			}},
		}
		if len(cases) != len(MethodGrants) {
			t.Fatalf("%d cases for %d methods", len(cases), len(MethodGrants))
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/fifo=%v", tc.method, fifo), func(t *testing.T) {
				q := newPair(t, c, fifo, 30*time.Second, 0)
				run := tc.setup(t, q)
				rec.Reset()
				if err := run(); err != nil {
					t.Fatal(err)
				}
				var got []Grant
				for _, call := range rec.Calls() {
					action, ok := OperationAction(call.Operation)
					if !ok {
						t.Errorf("%s made %s, which has no IAM action in operationActions", tc.method, call.Operation)
						continue
					}
					side := map[string]QueueSide{q.url: OnQueue, q.dlq: OnDLQ}[call.Resource]
					if side == "" {
						t.Errorf("%s called %s on %q, neither queue of the pair", tc.method, call.Operation, call.Resource)
					}
					got = append(got, Grant{action, side})
				}
				got, _ = grantSet(got)
				want, _ := GrantsFor(tc.method)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s calls need %v; MethodGrants declares %v", tc.method, got, want)
				}
			})
		}
	}
}

// grantSet sorts and de-duplicates grants the way GrantsFor does.
func grantSet(gs []Grant) ([]Grant, int) {
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].On != gs[j].On {
			return gs[i].On < gs[j].On
		}
		return gs[i].Action < gs[j].Action
	})
	out := gs[:0]
	for i, g := range gs {
		if i == 0 || g != gs[i-1] {
			out = append(out, g)
		}
	}
	return out, len(out)
}
