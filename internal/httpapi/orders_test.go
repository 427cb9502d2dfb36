package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/httpapi"
	"github.com/ponte-hub/ponte/internal/orders"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/secrets/keys"
	"github.com/ponte-hub/ponte/internal/store"
	storesqlite "github.com/ponte-hub/ponte/internal/store/sqlite"
)

// The real use case must fit the port the API declares.
var _ httpapi.Orders = (*orders.Service)(nil)

// fakeOrders is the order use case as the API sees it: answers set per test, calls recorded.
type fakeOrders struct {
	mu         sync.Mutex
	receipt    orders.Receipt
	receiveErr error
	received   []platform.WebhookRequest
	receivedAt []string // "platform/connection"

	records    map[string]domain.OrderRecord // by id; GetOrder and Ack only see the owner's
	listed     []string                      // "tenant|filter|cursor|limit"
	listNext   string
	listErr    error
	ackErr     error
	acks       []orders.Ack
	needs      []domain.PurchaseNeed
	needsAsked []string // "tenant|supplier"
}

func (f *fakeOrders) Receive(_ context.Context, plat, conn string, req platform.WebhookRequest) (orders.Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.received = append(f.received, req)
	f.receivedAt = append(f.receivedAt, plat+"/"+conn)
	return f.receipt, f.receiveErr
}

func (f *fakeOrders) ListForERP(_ context.Context, tenant string, flt store.OrderFilter, cursor string, limit int) ([]domain.OrderRecord, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listed = append(f.listed, fmt.Sprintf("%s|%s,%s,%s|%s|%d", tenant, flt.ERPState, flt.State, flt.ConnectionID, cursor, limit))
	var out []domain.OrderRecord
	for _, id := range []string{"ord_1", "ord_2", "ord_3"} {
		if r, ok := f.records[id]; ok && r.Tenant == tenant {
			out = append(out, r)
		}
	}
	return out, f.listNext, f.listErr
}

func (f *fakeOrders) GetOrder(_ context.Context, tenant, id string) (domain.OrderRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.records[id]
	if !ok || r.Tenant != tenant {
		return domain.OrderRecord{}, fmt.Errorf("get order %s: %w", id, store.ErrNotFound)
	}
	return r, f.listErr
}

func (f *fakeOrders) Ack(ctx context.Context, tenant, id string, a orders.Ack) (domain.OrderRecord, error) {
	r, err := f.GetOrder(ctx, tenant, id)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acks = append(f.acks, a)
	if err != nil {
		return r, err
	}
	if f.ackErr != nil {
		return domain.OrderRecord{}, f.ackErr
	}
	r.ERP.OrderNumber, r.ERP.Reason = a.ERPOrderNumber, a.Reason
	r.ERP.State = domain.ERPRegistered
	if a.Rejected {
		r.ERP.State = domain.ERPRefused
	}
	return r, nil
}

func (f *fakeOrders) PurchaseNeeds(_ context.Context, tenant, supplier string) ([]domain.PurchaseNeed, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.needsAsked = append(f.needsAsked, tenant+"|"+supplier)
	var out []domain.PurchaseNeed
	for _, n := range f.needs {
		if n.Tenant == tenant && (supplier == "" || n.Supplier == supplier) {
			out = append(out, n)
		}
	}
	return out, nil
}

// newFakeOrders holds ord_1 and ord_2 of acme and ord_3 of beta.
func newFakeOrders() *fakeOrders {
	rec := func(id, tenant string) domain.OrderRecord {
		return domain.OrderRecord{ID: id, Tenant: tenant, ConnectionID: tenant + "-tray-1", Platform: "tray", PlatformID: "9" + id,
			State: domain.OrderAccepted, ERP: domain.ERPHandoff{State: domain.ERPPending}, Rev: 3,
			Outbox: []domain.OrderEvent{{ID: "ev1", Type: "order.accepted"}}}
	}
	return &fakeOrders{
		receipt: orders.Receipt{DeliveryID: "dlv_1"},
		records: map[string]domain.OrderRecord{"ord_1": rec("ord_1", "acme"), "ord_2": rec("ord_2", "acme"), "ord_3": rec("ord_3", "beta")},
		needs: []domain.PurchaseNeed{{Tenant: "acme", Supplier: "s1", SKU: "A-1", OrderID: "ord_1", Quantity: 2},
			{Tenant: "acme", Supplier: "s2", SKU: "A-2", OrderID: "ord_2", Quantity: 1}, {Tenant: "beta", Supplier: "s1", SKU: "B-1", OrderID: "ord_3", Quantity: 5}},
	}
}

// ordersAPI serves the real handler over a real embedded store (tenants acme and beta,
// idempotency) with fake orders; logs go to the returned buffer at debug level.
func ordersAPI(t *testing.T, f *fakeOrders) (http.Handler, *syncBuffer) {
	t.Helper()
	ctx := context.Background()
	st, err := storesqlite.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	for id, key := range map[string]string{"acme": keyA, "beta": keyB} {
		if err := st.PutTenant(ctx, domain.Tenant{ID: id, Name: id, APIKeyHash: keys.LegacyHash(key), Currency: "BRL"}); err != nil {
			t.Fatal(err)
		}
	}
	logs := &syncBuffer{}
	api := &httpapi.API{Store: st, Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if f != nil {
		api.Orders = f
	}
	return api.Handler(), logs
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) lines(msg string) []string {
	var out []string
	for _, l := range strings.Split(s.String(), "\n") {
		if strings.Contains(l, `"msg":"`+msg+`"`) {
			out = append(out, l)
		}
	}
	return out
}

func TestWebhook(t *testing.T) {
	const secretBody = `{"order_id":"123","scope":"order","token":"s3cret-in-body"}`
	cases := []struct {
		name       string
		path       string
		body       string
		receiveErr error
		receipt    orders.Receipt
		status     int
		field      string // error answers
		errHas     string
		received   bool   // Receive was called
		logReason  string // refusals: the reason logged
	}{
		{name: "stored", path: "/v1/webhooks/tray/acme-tray-1?seller_id=7", body: secretBody, receipt: orders.Receipt{DeliveryID: "dlv_1"},
			status: 200, received: true},
		{name: "duplicate", path: "/v1/webhooks/tray/acme-tray-1", body: secretBody, receipt: orders.Receipt{DeliveryID: "dlv_1", Duplicate: true},
			status: 200, received: true},
		{name: "exactly 1 MiB", path: "/v1/webhooks/shopify/c1", body: padTo(t, secretBody, httpapi.MaxWebhookBytes), receipt: orders.Receipt{DeliveryID: "dlv_2"},
			status: 200, received: true},
		{name: "over 1 MiB is refused unread", path: "/v1/webhooks/shopify/c1", body: padTo(t, secretBody, httpapi.MaxWebhookBytes+1),
			status: 413, field: "body", errHas: "1 MiB", logReason: "too large"},
		{name: "unknown connection", path: "/v1/webhooks/tray/nope", body: secretBody, receiveErr: fmt.Errorf("receive: %w", orders.ErrUnknownConnection),
			status: 404, field: "connection", errHas: "no such connection", received: true, logReason: "unknown connection"},
		{name: "bad signature", path: "/v1/webhooks/shopify/c1", body: secretBody, receiveErr: fmt.Errorf("hmac mismatch for key s3cret-in-err: %w", orders.ErrBadSignature),
			status: 401, field: "signature", errHas: "signature", received: true, logReason: "bad signature"},
		{name: "store down: the platform must retry", path: "/v1/webhooks/tray/acme-tray-1", body: secretBody, receiveErr: errors.New("put delivery: database is locked"),
			status: 503, errHas: "could not store the delivery; retry", received: true, logReason: "store failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeOrders()
			f.receipt, f.receiveErr = c.receipt, c.receiveErr
			h, logs := ordersAPI(t, f)
			rec := serve(h, req{Path: c.path, Body: c.body, Header: map[string]string{"X-Shopify-Hmac-Sha256": "sig"}})
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			if got := len(f.received) == 1; got != c.received {
				t.Fatalf("Receive called %d times, want called: %v", len(f.received), c.received)
			}
			if c.received {
				got := f.received[0]
				if string(got.Body) != c.body || got.Header.Get("X-Shopify-Hmac-Sha256") != "sig" {
					t.Fatalf("Receive got body of %d bytes and header %v: not the delivery as sent", len(got.Body), got.Header)
				}
				if want := strings.TrimPrefix(strings.SplitN(c.path, "?", 2)[0], "/v1/webhooks/"); f.receivedAt[0] != want {
					t.Fatalf("Receive got %s, want %s", f.receivedAt[0], want)
				}
			}
			if c.status == 200 {
				if got := decodeBody[orders.Receipt](t, rec); got != c.receipt {
					t.Fatalf("receipt %+v, want %+v", got, c.receipt)
				}
				if l := logs.lines("webhook stored"); len(l) != 1 || !strings.Contains(l[0], `"ack_ms":`) || !strings.Contains(l[0], `"level":"DEBUG"`) {
					t.Fatalf("want one debug line with ack_ms, got %q", l)
				}
				return
			}
			eb := errorBody(t, rec)
			if eb.Field != c.field || !strings.Contains(eb.Error, c.errHas) {
				t.Fatalf("error %+v, want field %q and %q", eb, c.field, c.errHas)
			}
			var refusals []string
			for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				if strings.Contains(l, `"reason":`) {
					refusals = append(refusals, l)
				}
			}
			if len(refusals) != 1 {
				t.Fatalf("want one refusal line, got %q", refusals)
			}
			for _, want := range []string{`"reason":"` + c.logReason + `"`, `"platform":`, `"connection":`, `"size":`, `"remote":`} {
				if !strings.Contains(refusals[0], want) {
					t.Fatalf("refusal line %s lacks %s", refusals[0], want)
				}
			}
			if strings.Contains(logs.String(), "s3cret") {
				t.Fatalf("a secret reached the logs: %s", logs)
			}
		})
	}
}

func TestOrderRoutesNeedKeyAndOrders(t *testing.T) {
	routes := []struct{ method, path string }{
		{http.MethodGet, "/v1/erp/orders"}, {http.MethodGet, "/v1/erp/orders/ord_1"},
		{http.MethodPost, "/v1/erp/orders/ord_1/ack"}, {http.MethodGet, "/v1/erp/purchase-needs"},
	}
	withOrders, _ := ordersAPI(t, newFakeOrders())
	without, _ := ordersAPI(t, nil)
	for _, r := range routes {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			for _, key := range []string{"", "wrong-key"} {
				rec := serve(withOrders, req{Method: r.method, Path: r.path, Key: key, Body: `{"erp_order_number":"1"}`})
				if rec.Code != http.StatusUnauthorized || errorBody(t, rec).Field != "authorization" {
					t.Fatalf("key %q: status %d %s, want 401 naming authorization", key, rec.Code, rec.Body)
				}
			}
			rec := serve(without, req{Method: r.method, Path: r.path, Key: keyA, Body: `{"erp_order_number":"1"}`})
			if rec.Code != http.StatusNotFound || !strings.Contains(errorBody(t, rec).Error, "not enabled") {
				t.Fatalf("without orders: status %d %s, want 404 not enabled", rec.Code, rec.Body)
			}
		})
	}
	rec := serve(without, req{Path: "/v1/webhooks/tray/c1", Body: `{}`})
	if rec.Code != http.StatusNotFound || errorBody(t, rec).Field != "connection" {
		t.Fatalf("webhook without orders: %d %s", rec.Code, rec.Body)
	}
}

func TestListOrders(t *testing.T) {
	cases := []struct {
		name   string
		key    string
		query  string
		status int
		field  string
		call   string // what ListForERP got
		ids    string
	}{
		{name: "defaults", key: keyA, status: 200, call: "acme|,,||50", ids: "ord_1 ord_2"},
		{name: "every filter", key: keyA, query: "?status=pending&state=accepted&connection=acme-tray-1&cursor=abc&limit=200", status: 200,
			call: "acme|pending,accepted,acme-tray-1|abc|200", ids: "ord_1 ord_2"},
		{name: "registered, cancelled, limit 1", key: keyA, query: "?status=registered&state=cancelled&limit=1", status: 200, call: "acme|registered,cancelled,||1", ids: "ord_1 ord_2"},
		{name: "refused, rejected, waiting", key: keyA, query: "?status=refused&state=waiting", status: 200, call: "acme|refused,waiting,||50", ids: "ord_1 ord_2"},
		{name: "tenant comes from the key", key: keyB, query: "?connection=acme-tray-1", status: 200, call: "beta|,,acme-tray-1||50", ids: "ord_3"},
		{name: "bad status", key: keyA, query: "?status=open", status: 400, field: "status"},
		{name: "bad state", key: keyA, query: "?state=shipped", status: 400, field: "state"},
		{name: "limit 0", key: keyA, query: "?limit=0", status: 400, field: "limit"},
		{name: "limit 201", key: keyA, query: "?limit=201", status: 400, field: "limit"},
		{name: "limit not a number", key: keyA, query: "?limit=ten", status: 400, field: "limit"},
		{name: "status twice", key: keyA, query: "?status=pending&status=refused", status: 400, field: "status"},
		{name: "cursor too long", key: keyA, query: "?cursor=" + strings.Repeat("c", 1025), status: 400, field: "cursor"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeOrders()
			f.listNext = "next-page"
			h, _ := ordersAPI(t, f)
			rec := serve(h, req{Method: http.MethodGet, Path: "/v1/erp/orders" + c.query, Key: c.key})
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			if c.status != 200 {
				if eb := errorBody(t, rec); eb.Field != c.field || eb.Error == "" {
					t.Fatalf("error %+v, want field %q", eb, c.field)
				}
				if len(f.listed) != 0 {
					t.Fatalf("a refused query reached the use case: %v", f.listed)
				}
				return
			}
			if len(f.listed) != 1 || f.listed[0] != c.call {
				t.Fatalf("ListForERP got %v, want %q", f.listed, c.call)
			}
			list := decodeBody[httpapi.OrderList](t, rec)
			var ids []string
			for _, o := range list.Orders {
				ids = append(ids, o.ID)
				if o.Outbox != nil {
					t.Fatalf("the outbox reached the ERP: %+v", o)
				}
			}
			if strings.Join(ids, " ") != c.ids || list.NextCursor != "next-page" {
				t.Fatalf("got %v next %q, want %s next next-page", ids, list.NextCursor, c.ids)
			}
		})
	}
	t.Run("empty page is an empty array; store down is 503", func(t *testing.T) {
		f := &fakeOrders{}
		h, _ := ordersAPI(t, f)
		rec := serve(h, req{Method: http.MethodGet, Path: "/v1/erp/orders", Key: keyA})
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"orders":[]`) || !strings.Contains(rec.Body.String(), `"next_cursor":""`) {
			t.Fatalf("empty page: %d %s", rec.Code, rec.Body)
		}
		f.listErr = errors.New("disk I/O error")
		if rec := serve(h, req{Method: http.MethodGet, Path: "/v1/erp/orders", Key: keyA}); rec.Code != 503 {
			t.Fatalf("store down: %d %s", rec.Code, rec.Body)
		}
	})
}

func TestGetOrder(t *testing.T) {
	f := newFakeOrders()
	h, _ := ordersAPI(t, f)
	unknown := serve(h, req{Method: http.MethodGet, Path: "/v1/erp/orders/ord_9", Key: keyA})
	if unknown.Code != 404 || errorBody(t, unknown).Field != "id" {
		t.Fatalf("unknown order: %d %s", unknown.Code, unknown.Body)
	}
	other := serve(h, req{Method: http.MethodGet, Path: "/v1/erp/orders/ord_3", Key: keyA})
	if other.Code != 404 || other.Body.String() != unknown.Body.String() {
		t.Fatalf("another tenant's order answers %d %s, unlike an unknown one: it leaks existence", other.Code, other.Body)
	}
	rec := serve(h, req{Method: http.MethodGet, Path: "/v1/erp/orders/ord_3", Key: keyB})
	if rec.Code != 200 {
		t.Fatalf("own order: %d %s", rec.Code, rec.Body)
	}
	if got := decodeBody[domain.OrderRecord](t, rec); got.ID != "ord_3" || got.Tenant != "beta" || got.Outbox != nil || got.ERP.State != domain.ERPPending {
		t.Fatalf("got %+v", got)
	}
	f.listErr = errors.New("disk I/O error")
	if rec := serve(h, req{Method: http.MethodGet, Path: "/v1/erp/orders/ord_3", Key: keyB}); rec.Code != 503 {
		t.Fatalf("store down: %d %s", rec.Code, rec.Body)
	}
}
