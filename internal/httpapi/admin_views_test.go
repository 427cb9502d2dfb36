package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/httpapi"
	"github.com/ponte-hub/ponte/internal/store"
)

func TestAdminOrderReport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	rej := func(code string) []domain.OrderRejection {
		return []domain.OrderRejection{{Line: 0, SKU: "X", Code: code, Message: "because " + code}}
	}
	for _, o := range []domain.OrderRecord{
		{ID: "ord_a1", Tenant: "acme", ConnectionID: connA, State: domain.OrderAccepted, ERP: domain.ERPHandoff{State: domain.ERPRegistered, OrderNumber: "E-1"},
			Order: domain.Order{Total: domain.MustMoney("10.00", "BRL"), TotalMismatch: "total 10.00 differs from its parts 9.00 by 1"}},
		{ID: "ord_a2", Tenant: "acme", ConnectionID: connA, State: domain.OrderRejected, Rejections: rej(domain.RejectUnmappedSKU)},
		{ID: "ord_a3", Tenant: "acme", ConnectionID: connA, State: domain.OrderRejected, Rejections: rej(domain.RejectNoStock)},
		{ID: "ord_a4", Tenant: "acme", ConnectionID: connA, State: domain.OrderRejected, Rejections: rej(domain.RejectNoStock)},
		{ID: "ord_b1", Tenant: "beta", ConnectionID: connB, State: domain.OrderRejected, Rejections: rej(domain.RejectUnmappedSKU)},
	} {
		o.Platform, o.PlatformID, o.PlatformStatus, o.Rev, o.CreatedAt, o.UpdatedAt = "tray", o.ID, "a enviar", 1, at, at
		if err := e.hub.Store.PutOrder(ctx, store.OrderWrite{Record: o}); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(r httpapi.OrderReport) []string {
		var out []string
		for _, o := range r.Orders {
			out = append(out, o.ID)
		}
		return out
	}
	for _, c := range []struct {
		name, key, query string
		want             []string
		summary          map[domain.OrderState]int
		more             bool
	}{
		{"all of acme", keyA, "", []string{"ord_a1", "ord_a2", "ord_a3", "ord_a4"},
			map[domain.OrderState]int{domain.OrderAccepted: 1, domain.OrderRejected: 3}, false},
		{"by code", keyA, "?code=unmapped_sku", []string{"ord_a2"}, map[domain.OrderState]int{domain.OrderRejected: 1}, false},
		{"code with a page of one", keyA, "?code=no_stock&limit=1", []string{"ord_a3"}, map[domain.OrderState]int{domain.OrderRejected: 1}, true},
		{"state and connection", keyA, "?state=accepted&connection=" + connA, []string{"ord_a1"}, map[domain.OrderState]int{domain.OrderAccepted: 1}, false},
		{"beta sees only its own", keyB, "", []string{"ord_b1"}, map[domain.OrderState]int{domain.OrderRejected: 1}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := e.get(t, c.key, "/v1/admin/orders"+c.query)
			if rec.Code != http.StatusOK {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			r := decodeBody[httpapi.OrderReport](t, rec)
			if !slices.Equal(ids(r), c.want) || len(r.Summary) != len(c.summary) || (r.NextCursor != "") != c.more {
				t.Errorf("got %v summary %v next %q", ids(r), r.Summary, r.NextCursor)
			}
			for k, v := range c.summary {
				if r.Summary[k] != v {
					t.Errorf("summary %v, want %v", r.Summary, c.summary)
				}
			}
		})
	}
	// The cursor continues a code-filtered report past what it already returned.
	first := decodeBody[httpapi.OrderReport](t, e.get(t, keyA, "/v1/admin/orders?code=no_stock&limit=1"))
	next := decodeBody[httpapi.OrderReport](t, e.get(t, keyA, "/v1/admin/orders?code=no_stock&limit=1&cursor="+first.NextCursor))
	if !slices.Equal(ids(next), []string{"ord_a4"}) {
		t.Errorf("second page %v", ids(next))
	}
	a1 := decodeBody[httpapi.OrderReport](t, e.get(t, keyA, "/v1/admin/orders?state=accepted")).Orders[0]
	if a1.Total.Amount.String() != "10" || !strings.Contains(a1.TotalMismatch, "differs from its parts") {
		t.Errorf("report item total %v, mismatch %q: the operator must see the flag", a1.Total, a1.TotalMismatch)
	}
	a2 := decodeBody[httpapi.OrderReport](t, e.get(t, keyA, "/v1/admin/orders?code=unmapped_sku")).Orders[0]
	if a2.Connection != connA || a2.PlatformStatus != "a enviar" || len(a2.Rejections) != 1 || a2.Rejections[0].Message == "" {
		t.Errorf("report item %+v", a2)
	}
	for _, c := range []struct{ query, field string }{{"?connection=" + connA, "connection"}, {"?state=lost", "state"}, {"?limit=0", "limit"}} {
		rec := e.get(t, keyB, "/v1/admin/orders"+c.query)
		if rec.Code/100 != 4 || errorBody(t, rec).Field != c.field {
			t.Errorf("%s: %d %s", c.query, rec.Code, rec.Body)
		}
	}
}

func TestAdminReports(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i, j := range []store.Job{
		{Tenant: "acme", ID: "j1", Kind: store.JobReconcile, ConnectionID: connA, Status: store.JobDone, Report: json.RawMessage(`{"checked":2,"drifted":1}`)},
		{Tenant: "acme", ID: "j2", Kind: store.JobFirstSync, ConnectionID: connA, Status: store.JobRunning},
		{Tenant: "beta", ID: "j3", Kind: store.JobReconcile, ConnectionID: connB, Status: store.JobDone},
	} {
		j.Rev, j.StartedAt, j.UpdatedAt = 1, at.Add(time.Duration(i)*time.Minute), at
		if err := e.hub.Store.PutJob(ctx, j, 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		key, query string
		want       []string
	}{
		{keyA, "", []string{"j2", "j1"}},
		{keyA, "?kind=reconcile", []string{"j1"}},
		{keyA, "?connection=" + connA + "&kind=first_sync", []string{"j2"}},
		{keyB, "", []string{"j3"}},
	} {
		rec := e.get(t, c.key, "/v1/admin/reports"+c.query)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", c.query, rec.Code, rec.Body)
		}
		var got []string
		for _, j := range decodeBody[httpapi.ReportList](t, rec).Reports {
			got = append(got, j.ID)
			if j.ID == "j1" && string(j.Report) != `{"checked":2,"drifted":1}` {
				t.Errorf("j1 report %s", j.Report)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s %s: %v, want %v", c.key, c.query, got, c.want)
		}
	}
	for _, c := range []struct{ query, field string }{{"?connection=" + connA, "connection"}, {"?kind=other", "kind"}} {
		rec := e.get(t, keyB, "/v1/admin/reports"+c.query)
		if rec.Code/100 != 4 || errorBody(t, rec).Field != c.field {
			t.Errorf("%s: %d %s", c.query, rec.Code, rec.Body)
		}
	}
}

func TestAdminTrace(t *testing.T) {
	e := newEnv(t)
	e.settle(t)
	result(t, e.post(t, keyA, batch(`{"type":"stock","sku":"A-1","version":3,"quantity":4,"warehouse":"main"}`,
		`{"type":"price","sku":"A-1","version":3,"price":"50.00"}`), nil))
	e.settle(t)
	tr := waitStock(t, e, "A-1", 4)
	if tr.State == nil || tr.State.Price == nil || tr.Desired == nil || tr.Pushed == nil || tr.FanoutBehind || tr.Mapping == nil {
		t.Fatalf("trace %+v", tr)
	}
	var kinds []string
	for i, s := range tr.Steps {
		kinds = append(kinds, s.Step)
		if i > 0 && s.At.Before(tr.Steps[i-1].At) {
			t.Errorf("steps out of time order: %+v", tr.Steps)
		}
	}
	pos := func(step string) int { return slices.Index(kinds, step) }
	if pos(httpapi.StepERPStock) < 0 || pos(httpapi.StepERPPrice) < 0 || pos(httpapi.StepERPProduct) < 0 ||
		!(pos(httpapi.StepERPStock) < pos(httpapi.StepDesired) && pos(httpapi.StepDesired) < pos(httpapi.StepPushed) &&
			pos(httpapi.StepPushed) < pos(httpapi.StepPlatform)) {
		t.Errorf("steps %v", kinds)
	}
	for _, c := range []struct{ key, path, field string }{
		{keyB, "/v1/admin/connections/" + connA + "/skus/A-1/trace", "id"},
		{keyA, "/v1/admin/connections/" + connA + "/skus/NOPE/trace", "sku"},
	} {
		if rec := e.get(t, c.key, c.path); rec.Code != http.StatusNotFound || errorBody(t, rec).Field != c.field {
			t.Errorf("%s: %d %s", c.path, rec.Code, rec.Body)
		}
	}
}

func TestAdminDryRun(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.settle(t)
	result(t, e.post(t, keyA, batch(`{"type":"price","sku":"A-1","version":3,"price":"100.00"}`,
		`{"type":"stock","sku":"A-1","version":3,"quantity":4}`), nil))
	e.settle(t)
	before, err := e.hub.Store.GetDesired(ctx, "acme", connA, "A-1")
	if err != nil || before.Price == nil {
		t.Fatalf("desired before: %+v %v", before, err)
	}

	rec := e.do(t, req{Path: "/v1/admin/connections/" + connA + "/dry-run?sku=A-1", Key: keyA, Body: `{"markup_pct":"12"}`})
	if rec.Code != http.StatusOK {
		t.Fatalf("dry run: %d %s", rec.Code, rec.Body)
	}
	dr := decodeBody[httpapi.DryRun](t, rec)
	if len(dr.Items) != 1 || dr.SKUsFrom != httpapi.SKUsFromRequest || dr.WouldPush != 1 || dr.Changed != 1 {
		t.Fatalf("dry run %+v", dr)
	}
	it := dr.Items[0]
	if it.Current == nil || it.Current.Price == nil || it.Current.Price.Amount.String() != "100" ||
		it.WouldBe == nil || it.WouldBe.Price == nil || it.WouldBe.Price.Amount.StringFixed(2) != "112.00" ||
		!it.WouldPush || !slices.Equal(it.Pending, []string{"price"}) || *it.WouldBe.Stock != 4 {
		t.Errorf("item %+v current %+v would be %+v", it, it.Current, it.WouldBe)
	}

	// Nothing was written or queued.
	after, err := e.hub.Store.GetDesired(ctx, "acme", connA, "A-1")
	if err != nil || after.Rev != before.Rev || !after.Price.Amount.Equal(before.Price.Amount) {
		t.Errorf("desired changed: %+v -> %+v (%v)", before, after, err)
	}
	if conn, _ := e.hub.Store.GetConnection(ctx, connA); !conn.Rules.MarkupPct.IsZero() {
		t.Errorf("connection rules changed: %+v", conn.Rules)
	}
	if st, _ := e.hub.PushQueues["tray"].Stats(ctx); st.Waiting != 0 {
		t.Errorf("dry run queued pushes: %+v", st)
	}

	// Without ?sku the connection's SKUs come from the store's catalogue.
	dr = decodeBody[httpapi.DryRun](t, e.do(t, req{Path: "/v1/admin/connections/" + connA + "/dry-run", Key: keyA, Body: `{"markup_pct":"12"}`}))
	var skus []string
	for _, it := range dr.Items {
		skus = append(skus, it.SKU)
	}
	slices.Sort(skus)
	if dr.SKUsFrom != httpapi.SKUsFromCatalogue || !slices.Equal(skus, []string{"A-1", "A-2"}) {
		t.Errorf("catalogue dry run %v from %s", skus, dr.SKUsFrom)
	}

	for _, c := range []struct {
		name, key, path, body, field string
		status                       int
	}{
		{"markup below -100", keyA, connA, `{"markup_pct":"-200"}`, "markup_pct", 400},
		{"unknown rule", keyA, connA, `{"markup":"12"}`, "markup", 400},
		{"wrong type", keyA, connA, `{"safety_stock":"x"}`, "safety_stock", 400},
		{"not an object", keyA, connA, `[1]`, "body", 400},
		{"another tenant's connection", keyB, connA, `{"markup_pct":"12"}`, "id", 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := e.do(t, req{Path: "/v1/admin/connections/" + c.path + "/dry-run?sku=A-1", Key: c.key, Body: c.body})
			if rec.Code != c.status || errorBody(t, rec).Field != c.field {
				t.Errorf("%d %s, want %d naming %s", rec.Code, rec.Body, c.status, c.field)
			}
		})
	}
}
