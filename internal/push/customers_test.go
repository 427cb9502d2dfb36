package push_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/fanout"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/mercos"
	"github.com/ponte-hub/ponte/internal/platform/mercos/mercossim"
	"github.com/ponte-hub/ponte/internal/push"
	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/store"
	storesqlite "github.com/ponte-hub/ponte/internal/store/sqlite"
	"github.com/ponte-hub/ponte/internal/worker"
)

type customerFixture struct {
	ctx   context.Context
	store *storesqlite.Store
	sim   *mercossim.Server
	svc   *push.Service
	revs  map[string]int64
}

func newCustomerFixture(t *testing.T) *customerFixture {
	t.Helper()
	ctx := context.Background()
	st, err := storesqlite.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	must(t, err)
	t.Cleanup(func() { _ = st.Close() })
	sim := mercossim.New(mercossim.Options{RateLimitPerMin: 100000})
	sim.AddStore("m", mercossim.StoreConfig{ApplicationToken: "app", CompanyToken: "company"})
	base, err := sim.Start(":0")
	must(t, err)
	t.Cleanup(sim.Close)
	conn := domain.Connection{ID: "m1", Tenant: "t1", Platform: mercos.Name, Enabled: true, SecretRef: "m1", Currency: "BRL",
		Settings: map[string]string{"base_url": mercossim.APIBase(base), "rate_limit_per_min": "100000"}}
	must(t, st.PutConnection(ctx, conn))
	must(t, st.PutSecret(ctx, "m1", map[string]string{"application_token": "app", "company_token": "company"}))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := &push.Service{Store: st, Now: time.Now, Log: log,
		Connectors: map[string]platform.Connector{mercos.Name: mercos.New(st, mercos.Options{})}}
	return &customerFixture{ctx: ctx, store: st, sim: sim, svc: svc, revs: map[string]int64{}}
}

func (f *customerFixture) setCustomer(t *testing.T, id string, version domain.Version, c domain.Customer) {
	t.Helper()
	rev := f.revs[id]
	rec := store.CustomerRecord{Tenant: "t1", CustomerID: id, Customer: c, Version: version, Rev: rev + 1, UpdatedAt: time.Now().UTC()}
	errs, err := f.store.PutCustomers(f.ctx, []store.CustomerWrite{{Record: rec, ExpectedRev: rev}})
	if err != nil || errs[0] != nil {
		t.Fatalf("put customer: %v %v", err, errs)
	}
	f.revs[id] = rev + 1
}

func (f *customerFixture) msg(id string) queue.Message {
	body, _ := json.Marshal(fanout.PushMessage{Tenant: "t1", ConnectionID: "m1", Kind: fanout.KindCustomer, Customer: id, Rev: f.revs[id]})
	return queue.Message{Body: body, Group: "m1"}
}

func (f *customerFixture) link(t *testing.T, id string) store.CustomerLink {
	t.Helper()
	l, err := f.store.GetCustomerLink(f.ctx, "t1", "m1", id)
	must(t, err)
	return l
}

func TestPushCustomersCreatesThenUpdatesByStoredID(t *testing.T) {
	f := newCustomerFixture(t)
	maria := domain.Customer{ExternalID: "C-1", Name: "Maria", CompanyName: "Mercearia Boa Vista LTDA", TradeName: "Boa Vista",
		Document: "12.345.678/0001-95", Email: "compras@boavista.com.br", Phones: []string{"(47) 3333-4444"},
		Address: &domain.Address{Street: "Rua XV", Number: "10", City: "Blumenau", State: "SC", PostalCode: "89010-000"}}
	f.setCustomer(t, "C-1", 5, maria)

	// First push creates; a duplicate message in the same batch shares the result.
	errs := f.svc.HandleBatch(f.ctx, []queue.Message{f.msg("C-1"), f.msg("C-1")})
	for _, err := range errs {
		must(t, err)
	}
	l := f.link(t, "C-1")
	if l.PlatformID == "" || l.PushedVersion != 5 || l.PushedAt.IsZero() {
		t.Fatalf("link after create: %+v", l)
	}
	id, err := strconv.ParseInt(l.PlatformID, 10, 64)
	must(t, err)
	got, ok := f.sim.Customer("m", id)
	if !ok || got["razao_social"] != "Mercearia Boa Vista LTDA" || got["nome_fantasia"] != "Boa Vista" || got["cnpj"] != "12345678000195" {
		t.Fatalf("created %v", got)
	}
	calls := f.sim.Calls("m").Total

	// The same version again: no platform call.
	must(t, f.svc.Handle(f.ctx, f.msg("C-1")))
	if c := f.sim.Calls("m").Total; c != calls {
		t.Fatalf("re-pushed a version the platform has: %d calls, was %d", c, calls)
	}

	// A newer version updates the same client, found by the stored id.
	maria.TradeName = "Boa Vista Atacado"
	f.setCustomer(t, "C-1", 6, maria)
	must(t, f.svc.Handle(f.ctx, f.msg("C-1")))
	l2 := f.link(t, "C-1")
	if l2.PlatformID != l.PlatformID || l2.PushedVersion != 6 {
		t.Fatalf("link after update: %+v (was %+v)", l2, l)
	}
	if got, _ := f.sim.Customer("m", id); got["nome_fantasia"] != "Boa Vista Atacado" {
		t.Fatalf("not updated: %v", got)
	}
	if _, extra := f.sim.Customer("m", id+1); extra {
		t.Fatalf("the update created a second client")
	}
}

func TestPushCustomersFailures(t *testing.T) {
	tests := []struct {
		name      string
		customer  domain.Customer
		prepare   func(f *customerFixture)
		wantDead  string
		wantRetry bool
	}{
		{name: "refused document is dead-lettered", customer: domain.Customer{ExternalID: "C-9", Name: "Bad doc", Document: "123"},
			wantDead: "refused"},
		{name: "unknown platform id is dead-lettered", customer: domain.Customer{ExternalID: "C-9", Name: "Ghost"},
			prepare: func(f *customerFixture) {
				_ = f.store.PutCustomerLink(f.ctx, store.CustomerLink{Tenant: "t1", ConnectionID: "m1", CustomerID: "C-9", PlatformID: "999999", PushedVersion: 1})
			},
			wantDead: "not found"},
		{name: "server error is retried", customer: domain.Customer{ExternalID: "C-9", Name: "Ok"},
			prepare: func(f *customerFixture) {
				f.sim.InjectFault("m", mercossim.Fault{Kind: mercossim.FaultServerError, Count: 10})
			},
			wantRetry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newCustomerFixture(t)
			f.setCustomer(t, "C-9", 2, tt.customer)
			if tt.prepare != nil {
				tt.prepare(f)
			}
			err := f.svc.Handle(f.ctx, f.msg("C-9"))
			var dead *worker.DeadError
			var retry *worker.RetryError
			switch {
			case tt.wantDead != "":
				if !errors.As(err, &dead) || !strings.Contains(dead.Reason, tt.wantDead) || !strings.Contains(dead.Reason, "C-9") {
					t.Fatalf("got %v, want dead-lettered naming C-9 and %q", err, tt.wantDead)
				}
			case tt.wantRetry:
				if !errors.As(err, &retry) {
					t.Fatalf("got %v, want a retry", err)
				}
			}
			if l, err := f.store.GetCustomerLink(f.ctx, "t1", "m1", "C-9"); err == nil && l.PushedVersion >= 2 {
				t.Fatalf("failed push recorded as pushed: %+v", l)
			}
		})
	}
}

func TestPushCustomersOnPlatformWithoutCustomers(t *testing.T) {
	f := newFixture(t, domain.Rules{}) // tray: no CustomerPusher
	body, _ := json.Marshal(fanout.PushMessage{Tenant: "t1", ConnectionID: "c1", Kind: fanout.KindCustomer, Customer: "C-1", Rev: 1})
	var dead *worker.DeadError
	if err := f.svc.Handle(f.ctx, queue.Message{Body: body}); !errors.As(err, &dead) || !strings.Contains(dead.Reason, "does not take customers") {
		t.Fatalf("got %v", err)
	}
	for _, bad := range []string{`{"tenant":"t1","connection":"c1","kind":"customer"}`, `{"tenant":"t1","connection":"c1","kind":"x","sku":"A"}`} {
		if err := f.svc.Handle(f.ctx, queue.Message{Body: []byte(bad)}); !errors.As(err, &dead) {
			t.Fatalf("%s: got %v", bad, err)
		}
	}
}
