package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/httpapi"
	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/worker"
)

// drain hands every waiting message of q to h by hand (no workers), acknowledging it.
func drain(t testing.TB, q queue.Queue, h worker.Handler) {
	t.Helper()
	ctx := context.Background()
	for {
		msgs, err := q.Receive(ctx, 10, 0)
		if err != nil {
			t.Fatalf("receive %s: %v", q.Name(), err)
		}
		if len(msgs) == 0 {
			return
		}
		for _, m := range msgs {
			if err := h.Handle(ctx, m); err != nil {
				t.Fatalf("handle %s message %s: %v", q.Name(), m.Body, err)
			}
			if err := q.Delete(ctx, m.Receipt); err != nil {
				t.Fatalf("delete: %v", err)
			}
		}
	}
}

// settle fans out and pushes by hand whatever is waiting (the seed's product changes).
func (e *env) settle(t testing.TB) {
	t.Helper()
	drain(t, e.hub.Changes, e.hub.Fanout)
	drain(t, e.hub.PushQueues["tray"], e.hub.Pusher)
}

// deadPush posts a stock change for acme's A-1, fans it out by hand and dead-letters
// the resulting push message as if the store had refused it; it returns its id.
func (e *env) deadPush(t testing.TB, quantity int) string {
	t.Helper()
	e.settle(t)
	result(t, e.post(t, keyA, batch(`{"type":"stock","sku":"A-1","version":2,"quantity":`+strconv.Itoa(quantity)+`}`), nil))
	drain(t, e.hub.Changes, e.hub.Fanout)
	q := e.hub.PushQueues["tray"]
	msgs, err := q.Receive(context.Background(), 10, time.Second)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("push messages %+v, %v; want 1", msgs, err)
	}
	if err := q.DeadLetter(context.Background(), msgs[0], "platform: store refused the update (test)"); err != nil {
		t.Fatalf("dead-letter: %v", err)
	}
	return msgs[0].ID
}

func (e *env) get(t testing.TB, key, path string) *httptest.ResponseRecorder {
	t.Helper()
	return e.do(t, req{Method: http.MethodGet, Path: path, Key: key})
}

func TestAdminFailuresRetryAndQueues(t *testing.T) {
	e := newEnv(t)
	id := e.deadPush(t, 5)

	rec := e.get(t, keyA, "/v1/admin/failures")
	if rec.Code != http.StatusOK {
		t.Fatalf("failures: %d %s", rec.Code, rec.Body)
	}
	fl := decodeBody[httpapi.FailureList](t, rec)
	if len(fl.Failures) != 1 {
		t.Fatalf("failures %+v, want 1", fl)
	}
	f := fl.Failures[0]
	if f.ID != id || f.Queue != "push-tray" || f.Connection != connA || f.SKU != "A-1" || f.Attempts != 1 ||
		f.Reason == "" || f.DeadAt.IsZero() || len(f.Payload) == 0 || f.Payload[0] != '{' {
		t.Errorf("failure %+v", f)
	}

	qv := decodeBody[httpapi.QueuesView](t, e.get(t, keyA, "/v1/admin/queues"))
	var push *httpapi.QueueView
	for i := range qv.Queues {
		if qv.Queues[i].Name == "push-tray" {
			push = &qv.Queues[i]
		}
	}
	// Dead is what waits unfiled in the queue's own store: the read filed it, so 0.
	if push == nil || push.Dead != 0 || push.TenantDead != 1 || len(qv.Queues) < 4 {
		t.Errorf("queues %+v", qv.Queues)
	}
	if len(qv.Connections) != 1 || qv.Connections[0].Connection != connA || qv.Connections[0].Dead != 1 ||
		qv.Connections[0].DeadByQ["push-tray"] != 1 {
		t.Errorf("connections %+v", qv.Connections)
	}

	// Tenant B sees none of it and cannot touch it.
	if fl := decodeBody[httpapi.FailureList](t, e.get(t, keyB, "/v1/admin/failures")); len(fl.Failures) != 0 {
		t.Errorf("beta sees failures %+v", fl)
	}
	qb := decodeBody[httpapi.QueuesView](t, e.get(t, keyB, "/v1/admin/queues"))
	if len(qb.Connections) != 1 || qb.Connections[0].Connection != connB || qb.Connections[0].Dead != 0 {
		t.Errorf("beta connections %+v", qb.Connections)
	}
	for _, q := range qb.Queues {
		if q.TenantDead != 0 {
			t.Errorf("beta tenant_dead %+v", q)
		}
	}
	for _, c := range []struct {
		name, method, path, body, field string
		status                          int
	}{
		{"B's failures of A's connection", http.MethodGet, "/v1/admin/failures?connection=" + connA, "", "connection", 404},
		{"B retries A's id", http.MethodPost, "/v1/admin/failures/retry", `{"queue":"push-tray","ids":["` + id + `"]}`, "ids", 404},
		{"B retries A's connection", http.MethodPost, "/v1/admin/failures/retry", `{"connection":"` + connA + `"}`, "connection", 404},
		{"unknown queue", http.MethodGet, "/v1/admin/failures?queue=nope", "", "queue", 400},
		{"ids without queue", http.MethodPost, "/v1/admin/failures/retry", `{"ids":["x"]}`, "queue", 400},
		{"nothing named", http.MethodPost, "/v1/admin/failures/retry", `{}`, "ids", 400},
		{"both forms", http.MethodPost, "/v1/admin/failures/retry", `{"queue":"push-tray","ids":["x"],"connection":"` + connB + `"}`, "ids", 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := e.do(t, req{Method: c.method, Path: c.path, Key: keyB, Body: c.body})
			if rec.Code != c.status || errorBody(t, rec).Field != c.field {
				t.Errorf("%d %s, want %d naming %s", rec.Code, rec.Body, c.status, c.field)
			}
		})
	}
	if fl := decodeBody[httpapi.FailureList](t, e.get(t, keyA, "/v1/admin/failures")); len(fl.Failures) != 1 {
		t.Fatalf("beta's attempts moved A's failure: %+v", fl)
	}

	// A retries it; the workers push it and the store holds 5.
	rec = e.do(t, req{Path: "/v1/admin/failures/retry", Key: keyA, Body: `{"queue":"push-tray","ids":["` + id + `"]}`})
	if rec.Code != http.StatusOK || decodeBody[httpapi.RetryResult](t, rec).Moved != 1 {
		t.Fatalf("retry: %d %s", rec.Code, rec.Body)
	}
	runWorkers(t, e.hub)
	waitStock(t, e, "A-1", 5)
	if fl := decodeBody[httpapi.FailureList](t, e.get(t, keyA, "/v1/admin/failures")); len(fl.Failures) != 0 {
		t.Errorf("failure still listed after retry: %+v", fl)
	}
}

func TestAdminRetryConnection(t *testing.T) {
	e := newEnv(t)
	e.deadPush(t, 9)
	rec := e.do(t, req{Path: "/v1/admin/failures/retry", Key: keyA, Body: `{"connection":"` + connA + `"}`})
	if rec.Code != http.StatusOK || decodeBody[httpapi.RetryResult](t, rec).Moved != 1 {
		t.Fatalf("retry connection: %d %s", rec.Code, rec.Body)
	}
	runWorkers(t, e.hub)
	waitStock(t, e, "A-1", 9)
}

func runWorkers(t testing.TB, hub *app.Hub) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); hub.RunWorkers(ctx, app.DefaultWorkers) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// waitStock waits until the simulated store holds n for an acme SKU, read through the trace.
func waitStock(t testing.TB, e *env, sku string, n int64) httpapi.SKUTrace {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rec := e.get(t, keyA, "/v1/admin/connections/"+connA+"/skus/"+sku+"/trace")
		if rec.Code != http.StatusOK {
			t.Fatalf("trace: %d %s", rec.Code, rec.Body)
		}
		tr := decodeBody[httpapi.SKUTrace](t, rec)
		if tr.InSync && tr.Platform != nil && tr.Platform.Stock != nil && *tr.Platform.Stock == n {
			return tr
		}
		if time.Now().After(deadline) {
			t.Fatalf("store does not hold %d of %s within 15 s: %+v", n, sku, tr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
