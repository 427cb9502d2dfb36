package topology

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/notify"
)

func TestOrderQueuesAndTriggers(t *testing.T) {
	topo := Default()
	cases := []struct {
		fn, queue, dlq, name string
		fifo                 bool
		batch                int
	}{
		{OrdersID, OrdersQueueID, OrdersDLQID, "ponte-{stage}-orders", false, 10},
		{EventsID, EventsQueueID, EventsDLQID, "ponte-{stage}-events.fifo", true, 1},
	}
	for _, c := range cases {
		t.Run(c.fn, func(t *testing.T) {
			f, ok := topo.Function(c.fn)
			if !ok {
				t.Fatal("missing")
			}
			if f.Trigger != (Trigger{Kind: TriggerQueue, Queue: c.queue, BatchSize: c.batch, MaxConcurrency: ConsumerMaxConcurrency}) {
				t.Errorf("trigger %+v", f.Trigger)
			}
			q, ok := topo.Queue(c.queue)
			if !ok || q.FIFO != c.fifo || q.HighThroughput != c.fifo || q.Name != c.name || q.DLQ != c.dlq || q.MaxReceiveCount != MaxReceiveCount {
				t.Errorf("queue %+v", q)
			}
			if _, ok := topo.Queue(c.dlq); !ok {
				t.Errorf("no DLQ %s", c.dlq)
			}
		})
	}
	// An outgoing webhook may take notify's whole request timeout; the invocation must
	// outlast it, or Lambda kills a delivery the endpoint may already have taken.
	if ev, _ := topo.Function(EventsID); ev.Timeout <= notify.RequestTimeout {
		t.Errorf("events timeout %v <= notify.RequestTimeout %v", ev.Timeout, notify.RequestTimeout)
	}
}

func TestOrderPollSchedule(t *testing.T) {
	topo := Default()
	var found bool
	for _, s := range topo.Schedules {
		if s.Function != OrderPollID {
			continue
		}
		found = true
		if s.Expression != "rate(1 minute)" || s.Input != `{}` || s.RoleLogicalID == "" {
			t.Errorf("schedule %+v", s)
		}
		// Scheduler's bounds: 0..185 retries, event age 60 s..24 h.
		if s.RetryAttempts < 0 || s.MaxEventAge < time.Minute {
			t.Errorf("retry policy %d x %v", s.RetryAttempts, s.MaxEventAge)
		}
	}
	if !found {
		t.Fatal("no schedule invokes order-poll")
	}
	if f, _ := topo.Function(OrderPollID); f.Timeout >= time.Minute {
		t.Errorf("order-poll timeout %v overlaps the next run", f.Timeout)
	}
	roles := map[string]bool{}
	for _, s := range topo.Schedules {
		if roles[s.RoleLogicalID] {
			t.Errorf("schedules share role %s (each may invoke its own function only)", s.RoleLogicalID)
		}
		roles[s.RoleLogicalID] = true
	}
}

// routePattern finds the "METHOD /path" patterns internal/httpapi registers.
var routePattern = regexp.MustCompile(`"((?:GET|POST|PUT|PATCH|DELETE) /[^"]*)"`)

// A route declared without a Why is served by the handler every HTTP function runs, and
// one declared ahead (with a Why) is not yet: a stale Why or a route the code lacks fails.
func TestRoutesMatchTheHTTPHandler(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "internal", "httpapi", "api.go"))
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, m := range routePattern.FindAllStringSubmatch(string(b), -1) {
		served[m[1]] = true
	}
	if len(served) == 0 {
		t.Fatal("no routes found in internal/httpapi/api.go")
	}
	// A greedy API Gateway route ("/v1/admin/{proxy+}", any method for ANY) is served
	// when the handler has some route under its prefix.
	servedUnder := func(r Route) bool {
		prefix, greedy := strings.CutSuffix(r.Path, "{proxy+}")
		if !greedy {
			return served[r.Key()]
		}
		for key := range served {
			method, path, _ := strings.Cut(key, " ")
			if (r.Method == "ANY" || r.Method == method) && strings.HasPrefix(path, prefix) {
				return true
			}
		}
		return false
	}
	for _, r := range Default().Routes {
		if got := servedUnder(r); got != (r.Why == "") {
			t.Errorf("route %s: served by httpapi %v, declared ahead %q", r.Key(), got, r.Why)
		}
	}
}
