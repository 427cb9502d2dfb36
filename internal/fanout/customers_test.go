package fanout_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/fanout"
	"github.com/ponte-hub/ponte/internal/ingest"
	"github.com/ponte-hub/ponte/internal/queue"
	queuesqlite "github.com/ponte-hub/ponte/internal/queue/sqlite"
	"github.com/ponte-hub/ponte/internal/store"
)

func TestCustomerFansOutOnlyToCustomerPlatforms(t *testing.T) {
	f := newFixture(t) // tray connections: tray takes no customers
	mq, err := f.broker.Queue("push-mercos", queuesqlite.Config{FIFO: true, VisibilityTimeout: time.Minute, MaxReceives: 5})
	must(t, err)
	for _, c := range []domain.Connection{
		{ID: "m1", Tenant: "t1", Platform: "mercos", Enabled: true},
		{ID: "m2", Tenant: "t1", Platform: "mercos", Enabled: true},
		{ID: "m-off", Tenant: "t1", Platform: "mercos", Enabled: false},
		{ID: "m-t2", Tenant: "t2", Platform: "mercos", Enabled: true},
	} {
		must(t, f.store.PutConnection(f.ctx, c))
	}
	f.svc.PushQueues["mercos"] = mq
	f.svc.CustomerPlatforms = map[string]bool{"mercos": true}

	rev := int64(0)
	setCustomer := func(version domain.Version) {
		t.Helper()
		rec := store.CustomerRecord{Tenant: "t1", CustomerID: "C-1", Version: version, Rev: rev + 1,
			Customer: domain.Customer{Name: "Maria"}, UpdatedAt: time.Now().UTC()}
		errs, err := f.store.PutCustomers(f.ctx, []store.CustomerWrite{{Record: rec, ExpectedRev: rev}})
		if err != nil || errs[0] != nil {
			t.Fatalf("put customer: %v %v", err, errs)
		}
		rev++
	}
	handle := func() {
		t.Helper()
		body, _ := json.Marshal(ingest.SKUMessage{Tenant: "t1", Kind: "customer", Customer: "C-1", Rev: rev})
		must(t, f.svc.Handle(f.ctx, queue.Message{Body: body}))
	}
	drain := func(q queue.Queue) map[string]fanout.PushMessage {
		t.Helper()
		got := map[string]fanout.PushMessage{}
		for {
			msgs, err := q.Receive(f.ctx, 10, 0)
			must(t, err)
			if len(msgs) == 0 {
				return got
			}
			for _, m := range msgs {
				var pm fanout.PushMessage
				must(t, json.Unmarshal(m.Body, &pm))
				if m.Group != pm.ConnectionID {
					t.Fatalf("grouped by %q, want %q", m.Group, pm.ConnectionID)
				}
				if _, dup := got[pm.ConnectionID]; dup {
					t.Fatalf("two pushes for %s", pm.ConnectionID)
				}
				got[pm.ConnectionID] = pm
				must(t, q.Delete(f.ctx, m.Receipt))
			}
		}
	}

	// An unknown customer has nothing to fan out.
	handle()
	if q := drain(mq); len(q) != 0 {
		t.Fatalf("queued for an unknown customer: %+v", q)
	}

	setCustomer(5)
	steps := []struct {
		name    string
		prepare func()
		want    []string // connections that get a push
	}{
		{"first version goes to every enabled customer platform connection", func() {}, []string{"m1", "m2"}},
		{"not pushed yet: queued again", func() {}, []string{"m1", "m2"}},
		{"m1 has the version: only m2", func() {
			must(t, f.store.PutCustomerLink(f.ctx, store.CustomerLink{Tenant: "t1", ConnectionID: "m1", CustomerID: "C-1", PlatformID: "9", PushedVersion: 5}))
		}, []string{"m2"}},
		{"both have it: nothing, not twice for the same version", func() {
			must(t, f.store.PutCustomerLink(f.ctx, store.CustomerLink{Tenant: "t1", ConnectionID: "m2", CustomerID: "C-1", PlatformID: "7", PushedVersion: 5}))
		}, nil},
		{"a newer version goes to both again", func() { setCustomer(6) }, []string{"m1", "m2"}},
	}
	for _, s := range steps {
		s.prepare()
		handle()
		got := drain(mq)
		if len(got) != len(s.want) {
			t.Fatalf("%s: queued %+v, want %v", s.name, got, s.want)
		}
		for _, c := range s.want {
			pm, ok := got[c]
			if !ok || pm.Kind != fanout.KindCustomer || pm.Customer != "C-1" || pm.Tenant != "t1" || pm.SKU != "" || pm.Rev != rev {
				t.Fatalf("%s: push for %s is %+v", s.name, c, pm)
			}
		}
		if q := f.drain(t); len(q) != 0 {
			t.Fatalf("%s: tray connections got customer pushes: %+v", s.name, q)
		}
	}
}

func TestCustomerMessageGarbage(t *testing.T) {
	f := newFixture(t)
	for _, body := range []string{`{"tenant":"t1","kind":"customer"}`, `{"tenant":"t1","kind":"refund","sku":"A"}`, `{"kind":"customer","customer":"C"}`} {
		if err := f.svc.Handle(f.ctx, queue.Message{Body: []byte(body)}); err == nil {
			t.Fatalf("accepted %q", body)
		}
	}
}
