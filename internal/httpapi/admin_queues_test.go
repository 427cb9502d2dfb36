package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/fanout"
	"github.com/ponte-hub/ponte/internal/httpapi"
	"github.com/ponte-hub/ponte/internal/queue"
)

// deadPushes sends n push messages of a tenant's connection to push-tray and dead-letters
// each as the push worker would (through the hub's queue, which files it in the inbox).
func (e *env) deadPushes(t testing.TB, tenant, conn string, n int) {
	t.Helper()
	ctx := context.Background()
	q := e.hub.PushQueues["tray"]
	msgs := make([]queue.OutMessage, n)
	for i := range msgs {
		body, err := json.Marshal(fanout.PushMessage{Tenant: tenant, ConnectionID: conn, SKU: fmt.Sprintf("%s-SKU-%04d", tenant, i), Rev: 1})
		if err != nil {
			t.Fatal(err)
		}
		msgs[i] = queue.OutMessage{Body: body, Group: conn}
	}
	if err := q.Send(ctx, msgs...); err != nil {
		t.Fatalf("send: %v", err)
	}
	for dead := 0; dead < n; {
		got, err := q.Receive(ctx, 50, time.Second)
		if err != nil || len(got) == 0 {
			t.Fatalf("receive after %d of %d: %v, %v", dead, n, got, err)
		}
		for _, m := range got {
			if err := q.DeadLetter(ctx, m, "platform: store refused the update (test)"); err != nil {
				t.Fatalf("dead-letter: %v", err)
			}
			dead++
		}
	}
}

// allFailures pages through GET /v1/admin/failures with query, checking page sizes and
// that truncated and next_cursor agree.
func (e *env) allFailures(t testing.TB, key, query string, limit int) []httpapi.Failure {
	t.Helper()
	var out []httpapi.Failure
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 2000 {
			t.Fatal("the listing never ends")
		}
		v, _ := url.ParseQuery(query)
		v.Set("limit", fmt.Sprint(limit))
		if cursor != "" {
			v.Set("cursor", cursor)
		}
		rec := e.get(t, key, "/v1/admin/failures?"+v.Encode())
		if rec.Code != http.StatusOK {
			t.Fatalf("failures: %d %s", rec.Code, rec.Body)
		}
		fl := decodeBody[httpapi.FailureList](t, rec)
		if len(fl.Failures) > limit || fl.Truncated != (fl.NextCursor != "") {
			t.Fatalf("page of %d (limit %d), truncated %v, next %q", len(fl.Failures), limit, fl.Truncated, fl.NextCursor)
		}
		out = append(out, fl.Failures...)
		if fl.NextCursor == "" {
			return out
		}
		cursor = fl.NextCursor
	}
}

// TestFailureInboxPerTenantBeyondAThousand: 1,100 dead letters of one tenant on the
// queue all tenants share no longer hide another tenant's 3: the inbox lists, counts and
// retries each tenant's exactly, and the big one pages through all of its own.
func TestFailureInboxPerTenantBeyondAThousand(t *testing.T) {
	e := newEnv(t)
	e.deadPushes(t, "acme", connA, 1100) // the oldest deaths: a scan of the first 1,000 saw only these
	e.deadPushes(t, "beta", connB, 3)

	// B's inbox shows exactly its 3, whole, on one page.
	rec := e.get(t, keyB, "/v1/admin/failures")
	if rec.Code != http.StatusOK {
		t.Fatalf("beta failures: %d %s", rec.Code, rec.Body)
	}
	fl := decodeBody[httpapi.FailureList](t, rec)
	if len(fl.Failures) != 3 || fl.Truncated || fl.NextCursor != "" {
		t.Fatalf("beta sees %d failures (truncated %v), want 3", len(fl.Failures), fl.Truncated)
	}
	for _, f := range fl.Failures {
		if f.Connection != connB || f.Queue != "push-tray" || f.Reason == "" {
			t.Errorf("beta failure %+v", f)
		}
	}

	// Counts are exact for both tenants.
	for _, c := range []struct {
		key, conn string
		want      int
	}{{keyA, connA, 1100}, {keyB, connB, 3}} {
		qv := decodeBody[httpapi.QueuesView](t, e.get(t, c.key, "/v1/admin/queues"))
		for _, q := range qv.Queues {
			want := 0
			if q.Name == "push-tray" {
				want = c.want
			}
			if q.TenantDead != want {
				t.Errorf("%s: queue %s tenant_dead %d, want %d", c.conn, q.Name, q.TenantDead, want)
			}
		}
		if len(qv.Connections) != 1 || qv.Connections[0].Connection != c.conn || qv.Connections[0].Dead != c.want ||
			qv.Connections[0].DeadByQ["push-tray"] != c.want {
			t.Errorf("%s: connections %+v, want %d dead on push-tray", c.conn, qv.Connections, c.want)
		}
	}

	// A pages through all 1,100, each once, newest first; the default page says truncated.
	if fl := decodeBody[httpapi.FailureList](t, e.get(t, keyA, "/v1/admin/failures")); len(fl.Failures) != 100 || !fl.Truncated {
		t.Errorf("acme's first page: %d failures, truncated %v; want 100 and truncated", len(fl.Failures), fl.Truncated)
	}
	for _, c := range []struct {
		query string
		limit int
	}{{"", 1000}, {"connection=" + connA, 333}, {"queue=push-tray&connection=" + connA, 1000}} {
		all := e.allFailures(t, keyA, c.query, c.limit)
		seen := map[string]bool{}
		for i, f := range all {
			if seen[f.ID] || f.Connection != connA {
				t.Fatalf("%q: failure %d %+v repeated or not acme's", c.query, i, f)
			}
			seen[f.ID] = true
			if i > 0 && f.DeadAt.After(all[i-1].DeadAt) {
				t.Fatalf("%q: failure %d died after the one before it", c.query, i)
			}
		}
		if len(seen) != 1100 {
			t.Errorf("%q by %d: %d distinct failures, want 1100", c.query, c.limit, len(seen))
		}
	}

	// Bad listing parameters are 400s naming them.
	for _, c := range []struct{ path, field string }{
		{"/v1/admin/failures?cursor=not-a-cursor", "cursor"},
		{"/v1/admin/failures?limit=1001", "limit"},
	} {
		if rec := e.get(t, keyA, c.path); rec.Code != http.StatusBadRequest || errorBody(t, rec).Field != c.field {
			t.Errorf("%s: %d %s, want 400 naming %s", c.path, rec.Code, rec.Body, c.field)
		}
	}

	// Retry by B's connection moves exactly B's 3 back to the queue, and nothing of A's.
	rec = e.do(t, req{Path: "/v1/admin/failures/retry", Key: keyB, Body: `{"connection":"` + connB + `"}`})
	if rec.Code != http.StatusOK || decodeBody[httpapi.RetryResult](t, rec).Moved != 3 {
		t.Fatalf("retry beta: %d %s, want moved 3", rec.Code, rec.Body)
	}
	back, err := e.hub.PushQueues["tray"].Receive(context.Background(), 10, time.Second)
	if err != nil || len(back) != 3 {
		t.Fatalf("push-tray holds %d messages after the retry (%v), want beta's 3", len(back), err)
	}
	for _, m := range back {
		var pm fanout.PushMessage
		if err := json.Unmarshal(m.Body, &pm); err != nil || pm.Tenant != "beta" || pm.ConnectionID != connB {
			t.Errorf("retried message %s is not beta's", m.Body)
		}
	}
	if fl := decodeBody[httpapi.FailureList](t, e.get(t, keyB, "/v1/admin/failures")); len(fl.Failures) != 0 {
		t.Errorf("beta's failures after retry: %d, want 0", len(fl.Failures))
	}
	qa := decodeBody[httpapi.QueuesView](t, e.get(t, keyA, "/v1/admin/queues"))
	if len(qa.Connections) != 1 || qa.Connections[0].Dead != 1100 {
		t.Errorf("acme's count after beta's retry: %+v, want 1100", qa.Connections)
	}

	// A's connection retry moves all 1,100 (more than one page of the inbox's walk).
	rec = e.do(t, req{Path: "/v1/admin/failures/retry", Key: keyA, Body: `{"connection":"` + connA + `","queue":"push-tray"}`})
	if rec.Code != http.StatusOK || decodeBody[httpapi.RetryResult](t, rec).Moved != 1100 {
		t.Fatalf("retry acme: %d %s, want moved 1100", rec.Code, rec.Body)
	}
	if st, err := e.hub.PushQueues["tray"].Stats(context.Background()); err != nil || st.Waiting+st.InFlight != 1103 {
		t.Errorf("push-tray after both retries: %+v, %v; want 1,103 messages (3 in flight)", st, err)
	}
}
