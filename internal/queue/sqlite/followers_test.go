package sqlite

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/queue"
)

// A FIFO receive hands over a group's queued messages together and in order, and the
// group stays closed to other receivers until all of them are settled.
func TestFIFOReceiveBatchesAGroupInOrder(t *testing.T) {
	ctx := context.Background()
	q, err := openBroker(t).Queue("push", Config{FIFO: true, VisibilityTimeout: time.Minute, MaxReceives: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []queue.OutMessage{
		{Body: []byte("a1"), Group: "a"}, {Body: []byte("b1"), Group: "b"}, {Body: []byte("a2"), Group: "a"},
		{Body: []byte("a3"), Group: "a"}, {Body: []byte("b2"), Group: "b"},
	} {
		if err := q.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	bodies := func(ms []queue.Message) string {
		var s []string
		for _, m := range ms {
			s = append(s, string(m.Body))
		}
		return strings.Join(s, ",")
	}
	steps := []struct {
		name    string
		max     int
		want    string
		settle  []string // bodies to delete after receiving
		retried []string // bodies to give back at once
	}{
		{"one receive takes both groups, each in order", 10, "a1,b1,a2,a3,b2", nil, nil},
		{"nothing more while everything is in flight", 10, "", []string{"a1", "a2"}, []string{"a3"}},
		{"a3 came back as the group's head", 10, "a3", []string{"a3"}, nil},
		{"b stays closed while b1 and b2 are in flight", 10, "", nil, nil},
	}
	inFlight := map[string]queue.Message{}
	for _, s := range steps {
		got, err := q.Receive(ctx, s.max, 0)
		if err != nil {
			t.Fatal(err)
		}
		if bodies(got) != s.want {
			t.Fatalf("%s: received %q, want %q", s.name, bodies(got), s.want)
		}
		for _, m := range got {
			inFlight[string(m.Body)] = m
		}
		for _, b := range s.settle {
			if err := q.Delete(ctx, inFlight[b].Receipt); err != nil {
				t.Fatalf("%s: delete %s: %v", s.name, b, err)
			}
		}
		for _, b := range s.retried {
			if err := q.Retry(ctx, inFlight[b].Receipt, 0); err != nil {
				t.Fatalf("%s: retry %s: %v", s.name, b, err)
			}
		}
	}
	small, err := q.Receive(ctx, 1, 0)
	if err != nil || len(small) != 0 {
		t.Fatalf("a max of 1 must not exceed it nor open group b: %q %v", bodies(small), err)
	}
}
