package app_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/smithy-go/middleware"
	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/fanout"
	"github.com/ponte-hub/ponte/internal/httpapi"
	"github.com/ponte-hub/ponte/internal/ingest"
	"github.com/ponte-hub/ponte/internal/notify"
	"github.com/ponte-hub/ponte/internal/orders"
	"github.com/ponte-hub/ponte/internal/platform/platformsim"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
	"github.com/ponte-hub/ponte/internal/queue"
	"github.com/ponte-hub/ponte/internal/store"
	"github.com/ponte-hub/ponte/internal/topology"
)

// The ids the sample events under events/ use.
const (
	demoTenant = "demo"
	demoKey    = "demo-erp-key-for-local-use-only"
	demoConn   = "demo-tray-1"
	// demoSecret follows the deployed naming, <platform>/<connection>: push-tray's role
	// may read only secrets under tray/.
	demoSecret = "tray/" + demoConn
	demoSKU    = "DEMO-1"
	demoStore  = "store1"
	demoProd   = "101"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// awsEndpoint is the emulator's address; without one the AWS tests skip, unless
// PONTE_REQUIRE_AWS=1 says they must run.
func awsEndpoint(t *testing.T) string {
	t.Helper()
	ep := os.Getenv("PONTE_AWS_ENDPOINT")
	if ep == "" {
		if os.Getenv("PONTE_REQUIRE_AWS") == "1" {
			t.Fatal("PONTE_AWS_ENDPOINT is not set but PONTE_REQUIRE_AWS=1: start the emulator with scripts/aws-emulator.sh start")
		}
		t.Skip("PONTE_AWS_ENDPOINT not set: start the emulator with scripts/aws-emulator.sh start")
	}
	return ep
}

func unique(prefix string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// openAWS creates a hub with its own table, queues and secrets prefix on the emulator.
func openAWS(t *testing.T) *app.Hub {
	t.Helper()
	hub, _ := openAWSWith(t, nil)
	return hub
}

// openAWSWith is openAWS with extra SDK middleware; it also returns the name every
// created resource starts with (table, queues, secrets prefix).
func openAWSWith(t *testing.T, apiOptions []func(*middleware.Stack) error) (*app.Hub, string) {
	t.Helper()
	endpoint := awsEndpoint(t)
	name := unique("ponte-test")
	hub, err := app.OpenAWS(context.Background(), app.AWSConfig{
		Endpoint: endpoint, Region: "us-east-1", Create: true, NamePrefix: name, Table: name,
		PushQueueURLs: map[string]string{}, PushDLQURLs: map[string]string{}, SecretsPrefix: name + "/",
		APIOptions: apiOptions,
	}, quietLogger())
	if err != nil {
		t.Fatalf("open AWS hub on %s: %v", endpoint, err)
	}
	t.Cleanup(func() { _ = hub.Close() })
	return hub, name
}

func openEmbedded(t *testing.T) *app.Hub {
	t.Helper()
	hub, err := app.OpenEmbedded(context.Background(), t.TempDir(), quietLogger())
	if err != nil {
		t.Fatalf("open embedded hub: %v", err)
	}
	t.Cleanup(func() { _ = hub.Close() })
	return hub
}

// seedDemo starts a simulated Tray store and seeds what the sample events expect:
// tenant demo (key demoKey), connection demo-tray-1 on it, DEMO-1 mapped to product 101
// and known through a product change.
func seedDemo(t *testing.T, hub *app.Hub) *traysim.Server {
	t.Helper()
	ctx := context.Background()
	sim := traysim.New(traysim.Options{})
	base, err := sim.Start(":0")
	if err != nil {
		t.Fatalf("start traysim: %v", err)
	}
	t.Cleanup(sim.Close)
	cfg := traysim.StoreConfig{ConsumerKey: "demo-consumer-key", ConsumerSecret: "demo-consumer-secret", Code: "demo-code-store1"}
	sim.AddStore(demoStore, cfg)
	sim.AddProduct(demoStore, demoProd, 0, decimal.Zero)
	err = hub.ApplySetup(ctx, app.Setup{
		Tenants: []app.TenantSetup{{ID: demoTenant, Name: "Demo merchant", APIKey: demoKey, Currency: "BRL"}},
		Connections: []domain.Connection{{
			ID: demoConn, Tenant: demoTenant, Platform: "tray", Enabled: true, SecretRef: demoSecret, Currency: "BRL",
			Settings: map[string]string{"api_address": traysim.APIAddress(base, demoStore), "store_id": "1001", "rate_limit_per_min": "600"},
		}},
		Secrets:  map[string]map[string]string{demoSecret: {"consumer_key": cfg.ConsumerKey, "consumer_secret": cfg.ConsumerSecret, "code": cfg.Code}},
		Mappings: []domain.Mapping{{ConnectionID: demoConn, SKU: demoSKU, ProductID: demoProd}},
	})
	if err != nil {
		t.Fatalf("apply setup: %v", err)
	}
	_, err = hub.Ingest.Apply(ctx, demoTenant, []ingest.Change{{Kind: ingest.KindProduct, SKU: demoSKU, Version: 1,
		Product: &domain.Product{SKU: demoSKU, Name: "Caneca azul 300 ml", Publish: true, SyncStock: true, Version: 1}}})
	if err != nil {
		t.Fatalf("seed product: %v", err)
	}
	return sim
}

func loadEvent[T any](t *testing.T, name string) T {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatalf("read sample event: %v", err)
	}
	var ev T
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("sample event %s does not decode as %T: %v", name, ev, err)
	}
	return ev
}

// receivePush waits for a push message on the hub's Tray push queue.
func receivePush(t *testing.T, q queue.Queue) queue.Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		msgs, err := q.Receive(context.Background(), 10, 2*time.Second)
		if err != nil {
			t.Fatalf("receive from %s: %v", q.Name(), err)
		}
		if len(msgs) > 0 {
			if len(msgs) != 1 {
				t.Fatalf("%d push messages, want 1: %+v", len(msgs), msgs)
			}
			return msgs[0]
		}
	}
	t.Fatalf("no push message on %s within 30 s", q.Name())
	return queue.Message{}
}

// asDelivered puts a received message into a sample SQS event, as Lambda's event source
// mapping would deliver it: the real id, receipt handle, body and group.
func asDelivered(ev events.SQSEvent, m queue.Message) events.SQSEvent {
	rec := &ev.Records[0]
	rec.MessageId, rec.ReceiptHandle, rec.Body = m.ID, m.Receipt, string(m.Body)
	if m.Group != "" {
		rec.Attributes["MessageGroupId"] = m.Group
	}
	rec.Attributes["ApproximateReceiveCount"] = "1"
	return ev
}

func TestFunctionsOnAWS(t *testing.T) {
	endpoint := awsEndpoint(t)
	t.Logf("lambda handlers against AWS APIs at %s (moto server)", endpoint)
	hub, calls, names := openAWSRecorded(t)
	// Every AWS call each handler made is one its deployed role grants; checked even
	// when a flow stops early, for the calls made until then.
	t.Cleanup(func() {
		checkCallsGranted(t, topology.Default(), names, calls.Calls(),
			"erp-api", "fanout", "push-tray", "reconcile", "webhooks", "orders", "events", "order-poll")
	})
	sim := seedDemo(t, hub)
	runFunctions(t, hub, sim)
	runOrderFunctions(t, hub, sim)
	runOperatorPages(t, hub)
}

func TestFunctionsOnEmbedded(t *testing.T) {
	hub := openEmbedded(t)
	sim := seedDemo(t, hub)
	runFunctions(t, hub, sim)
	runOrderFunctions(t, hub, sim)
	runOperatorPages(t, hub)
}

// runFunctions runs each Lambda handler on its sample event and checks the real effects:
// the change is stored, fan-out queues a push, the push reaches the store, the view shows
// it, and a push for a connection that no longer exists is dead-lettered.
func runFunctions(t *testing.T, hub *app.Hub, sim *traysim.Server) {
	ctx := context.Background()
	httpFn := as("erp-api", hub.HTTPFunction())
	fanoutFn := as("fanout", hub.FanoutFunction())
	trayFn, err := hub.PushFunction("tray")
	if err != nil {
		t.Fatal(err)
	}
	pushFn := as("push-tray", trayFn)
	pushQ := hub.PushQueues["tray"]

	// ERP API: the batch in post-changes.json is accepted and stored.
	post := loadEvent[events.APIGatewayV2HTTPRequest](t, "erp-api/post-changes.json")
	first, err := httpFn(ctx, post)
	if err != nil {
		t.Fatalf("HTTP function: %v", err)
	}
	if first.StatusCode != 202 || first.Headers["X-Request-Id"] != post.RequestContext.RequestID {
		t.Fatalf("HTTP function answered %d %v: %s", first.StatusCode, first.Headers, first.Body)
	}
	var res ingest.Result
	if err := json.Unmarshal([]byte(first.Body), &res); err != nil || res.Accepted != 2 || res.Duplicates != 0 || len(res.Rejected) != 0 {
		t.Fatalf("HTTP function result %s (%v), want 2 accepted", first.Body, err)
	}
	states, err := hub.Store.GetSKUs(ctx, demoTenant, []string{demoSKU})
	if err != nil {
		t.Fatal(err)
	}
	if st := states[demoSKU]; st.Stock["default"].Quantity != 7 || st.Price == nil || st.Price.Price.Amount.String() != "31.9" {
		t.Fatalf("stored state after the HTTP function: %+v", st)
	}
	// The event carries an Idempotency-Key: a redelivery is answered from the record.
	again, err := httpFn(ctx, post)
	if err != nil || again.StatusCode != 202 || again.Body != first.Body || again.Headers["Idempotent-Replayed"] != "true" {
		t.Fatalf("repeated event: %d %v %s (%v), want the first answer replayed", again.StatusCode, again.Headers, again.Body, err)
	}

	// Fan-out: the changes event makes a push message for demo-tray-1.
	fresp, err := fanoutFn(ctx, loadEvent[events.SQSEvent](t, "fanout/changes.json"))
	if err != nil || len(fresp.BatchItemFailures) != 0 {
		t.Fatalf("fan-out function: %+v %v", fresp, err)
	}
	msg := receivePush(t, pushQ)
	var pm fanout.PushMessage
	if err := json.Unmarshal(msg.Body, &pm); err != nil || pm.Tenant != demoTenant || pm.ConnectionID != demoConn || pm.SKU != demoSKU {
		t.Fatalf("push message %s (%v)", msg.Body, err)
	}
	if msg.Group != demoConn {
		t.Fatalf("push message group %q, want the connection %q", msg.Group, demoConn)
	}
	if err := pushQ.Delete(ctx, msg.Receipt); err != nil {
		t.Fatalf("delete push message: %v", err)
	}
	desired, err := hub.Store.GetDesired(ctx, demoTenant, demoConn, demoSKU)
	if err != nil || desired.Stock == nil || *desired.Stock != 7 {
		t.Fatalf("desired state after fan-out: %+v (%v)", desired, err)
	}

	// Push: the push event brings the store to the desired state.
	presp, err := pushFn(ctx, loadEvent[events.SQSEvent](t, "push-tray/push.json"))
	if err != nil || len(presp.BatchItemFailures) != 0 {
		t.Fatalf("push function: %+v %v", presp, err)
	}
	p, ok := sim.Product(demoStore, demoProd)
	if !ok || p.Stock != 7 || !p.Price.Equal(decimal.RequireFromString("31.90")) {
		t.Fatalf("simulated store holds %+v, want stock 7 price 31.90", p)
	}
	pushed, err := hub.Store.GetPushed(ctx, demoTenant, demoConn, demoSKU)
	if err != nil || pushed.Stock == nil || *pushed.Stock != 7 || pushed.PushedAt.IsZero() {
		t.Fatalf("pushed state: %+v (%v)", pushed, err)
	}

	// Admin view through the HTTP function: desired, pushed and read back agree.
	vresp, err := httpFn(ctx, loadEvent[events.APIGatewayV2HTTPRequest](t, "erp-api/get-sku-view.json"))
	if err != nil || vresp.StatusCode != 200 || vresp.Headers["X-Request-Id"] != "ops-sku-view-0001" {
		t.Fatalf("SKU view: %d %v %s (%v)", vresp.StatusCode, vresp.Headers, vresp.Body, err)
	}
	var view httpapi.SKUView
	if err := json.Unmarshal([]byte(vresp.Body), &view); err != nil {
		t.Fatal(err)
	}
	if !view.InSync || view.Pushed == nil || view.Platform == nil || view.Platform.Stock == nil || *view.Platform.Stock != 7 || view.PlatformError != "" {
		t.Fatalf("SKU view %s", vresp.Body)
	}

	// A push for a connection that no longer exists is dead-lettered, not failed back.
	deadBody := `{"tenant":"demo","connection":"demo-tray-gone","sku":"DEMO-1","rev":1}`
	if err := pushQ.Send(ctx, queue.OutMessage{Body: []byte(deadBody), Group: "demo-tray-gone", Key: "demo|demo-tray-gone|DEMO-1"}); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := receivePush(t, pushQ)
	ev := loadEvent[events.SQSEvent](t, "push-tray/push.json")
	// As Lambda's event source mapping would deliver it: the real id and receipt handle.
	rec := &ev.Records[0]
	rec.MessageId, rec.ReceiptHandle, rec.Body = got.ID, got.Receipt, string(got.Body)
	rec.Attributes["MessageGroupId"] = got.Group
	rec.Attributes["ApproximateReceiveCount"] = "1"
	dresp, err := pushFn(ctx, ev)
	if err != nil || len(dresp.BatchItemFailures) != 0 {
		t.Fatalf("push function on a gone connection: %+v %v, want the message settled (dead-lettered)", dresp, err)
	}
	dead, err := pushQ.ListDead(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || string(dead[0].Body) != deadBody || !strings.Contains(dead[0].Reason, "demo-tray-gone") || !strings.Contains(dead[0].Reason, "no longer exists") {
		t.Fatalf("dead letters %+v, want the gone connection's message with its reason", dead)
	}
	if p, _ := sim.Product(demoStore, demoProd); p.Stock != 7 {
		t.Fatalf("store changed by a dead message: %+v", p)
	}

	// Reconcile: the store lost the stock behind the hub's back; the scheduled run finds
	// the drift and queues the correction, and the push function writes 7 again.
	reconcileFn := as("reconcile", hub.ReconcileFunction())
	sched := loadEvent[app.ReconcileEvent](t, "reconcile/schedule.json")
	if in, err := json.Marshal(sched); err != nil || string(in) != `{"connection":"*"}` {
		t.Fatalf("schedule event %s (%v), want the input topology gives the schedule", in, err)
	}
	sim.AddProduct(demoStore, demoProd, 2, decimal.RequireFromString("31.90"))
	out, err := reconcileFn(ctx, sched)
	if err != nil || len(out.Reports) != 1 {
		t.Fatalf("reconcile function: %+v %v", out, err)
	}
	if r := out.Reports[0]; r.ConnectionID != demoConn || r.Error != "" || r.Checked != 1 || r.Drifted != 1 || r.Corrected != 1 ||
		len(r.DriftedSKUs) != 1 || r.DriftedSKUs[0] != demoSKU {
		t.Fatalf("reconcile report %+v", r)
	}
	fix := receivePush(t, pushQ)
	ev = loadEvent[events.SQSEvent](t, "push-tray/push.json")
	rec = &ev.Records[0]
	rec.MessageId, rec.ReceiptHandle, rec.Body = fix.ID, fix.Receipt, string(fix.Body)
	rec.Attributes["MessageGroupId"] = fix.Group
	rec.Attributes["ApproximateReceiveCount"] = "1"
	if resp, err := pushFn(ctx, ev); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("push function on the correction: %+v %v", resp, err)
	}
	if p, _ := sim.Product(demoStore, demoProd); p.Stock != 7 {
		t.Fatalf("store after the correction holds %+v, want stock 7", p)
	}
	out, err = reconcileFn(ctx, app.ReconcileEvent{Connection: demoConn})
	if err != nil || len(out.Reports) != 1 || out.Reports[0].Drifted != 0 || out.Reports[0].Corrected != 0 {
		t.Fatalf("second reconcile: %+v %v", out, err)
	}
	if _, err := reconcileFn(ctx, app.ReconcileEvent{}); err == nil {
		t.Fatal("reconcile function accepted an input naming no connection")
	}
}

// drain takes every message a queue offers within a few seconds (and deletes them), for
// checks on what a handler queued.
func drain(t *testing.T, q queue.Queue) []queue.Message {
	t.Helper()
	ctx := context.Background()
	var out []queue.Message
	for empty := 0; empty < 2; {
		msgs, err := q.Receive(ctx, 10, time.Second)
		if err != nil {
			t.Fatalf("receive from %s: %v", q.Name(), err)
		}
		if len(msgs) == 0 {
			empty++
			continue
		}
		for _, m := range msgs {
			if err := q.Delete(ctx, m.Receipt); err != nil {
				t.Fatalf("delete from %s: %v", q.Name(), err)
			}
		}
		out = append(out, msgs...)
	}
	return out
}

// erpHook is the tenant's webhook endpoint: it records what the events function posts.
type erpHook struct {
	mu   sync.Mutex
	reqs []erpRequest
}

type erpRequest struct {
	header http.Header
	body   []byte
}

func (e *erpHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	e.reqs = append(e.reqs, erpRequest{r.Header.Clone(), b})
	e.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (e *erpHook) received() []erpRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]erpRequest(nil), e.reqs...)
}

// runOrderFunctions runs the order flow's handlers on their sample events: the Tray
// webhook is stored and queued, the orders worker fetches and accepts the order and
// publishes order.accepted, the events function delivers it signed to the tenant's
// endpoint, a delivery message naming nothing stored is dead-lettered, and the scheduled
// poll finds nothing left to do.
func runOrderFunctions(t *testing.T, hub *app.Hub, sim *traysim.Server) {
	ctx := context.Background()
	erp := &erpHook{}
	erpSrv := httptest.NewServer(erp)
	t.Cleanup(erpSrv.Close)
	const whsec = "whsec_cG9udGUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZiE="
	// The setup is the whole truth (what it leaves out is disabled): the connection seeded
	// earlier is listed again beside the new endpoint.
	conn, err := hub.Store.GetConnection(ctx, demoConn)
	if err != nil {
		t.Fatal(err)
	}
	// On AWS the events function may read only secrets under <prefix>webhooks/.
	err = hub.ApplySetup(ctx, app.Setup{
		Tenants: []app.TenantSetup{{ID: demoTenant, Name: "Demo merchant", APIKey: demoKey, Currency: "BRL",
			Endpoints: []domain.WebhookEndpoint{{ID: "demo-erp", URL: erpSrv.URL, SecretRef: "webhooks/demo-erp"}}}},
		Connections: []domain.Connection{conn},
		Secrets:     map[string]map[string]string{"webhooks/demo-erp": {"secret": whsec}},
	})
	if err != nil {
		t.Fatalf("apply endpoint setup: %v", err)
	}
	// The store takes a sale of one DEMO-1 as order 5001; Tray then notifies with ids only.
	kit := &traysim.Kit{Server: sim}
	_, placed, err := kit.PlaceOrder(demoStore, platformsim.SimOrder{ID: "5001",
		Lines: []platformsim.SimOrderLine{{Product: platformsim.Product{ProductID: demoProd}, SKU: demoSKU, Quantity: 1, UnitPrice: decimal.RequireFromString("31.90")}},
		Customer: platformsim.SimCustomer{Name: "Ana Souza", Email: "ana@example.com", Document: "39053344705",
			Street: "Rua da Aurora", Number: "100", City: "Recife", State: "PE", PostalCode: "50050-000"}})
	if err != nil {
		t.Fatalf("place order: %v", err)
	}

	// Webhooks: the sample is Tray's form delivery (as API Gateway passes a form: base64).
	hookEv := loadEvent[events.APIGatewayV2HTTPRequest](t, "webhooks/tray-order.json")
	sample, _ := base64.StdEncoding.DecodeString(hookEv.Body)
	got, _ := url.ParseQuery(string(sample))
	want, _ := url.ParseQuery(string(placed.Body))
	want.Set("seller_id", "1001") // the demo connection's store_id; the simulator derives its own
	if got.Encode() != want.Encode() || hookEv.Headers["content-type"] != placed.Header.Get("Content-Type") {
		t.Fatalf("sample delivery %q (%s), Tray sends %q (%s)", got.Encode(), hookEv.Headers["content-type"], want.Encode(), placed.Header.Get("Content-Type"))
	}
	httpFn := as("webhooks", hub.HTTPFunction())
	resp, err := httpFn(ctx, hookEv)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("webhooks function: %d %s (%v)", resp.StatusCode, resp.Body, err)
	}
	var receipt orders.Receipt
	if err := json.Unmarshal([]byte(resp.Body), &receipt); err != nil || receipt.Duplicate || receipt.Ignored {
		t.Fatalf("webhook receipt %s (%v)", resp.Body, err)
	}
	// A thin notification's delivery id is its own (Tray sends one body for every change of
	// an order): the sample names one of the same shape; the test uses the one just stored.
	ordersEv := loadEvent[events.SQSEvent](t, "orders/delivery.json")
	var deliveryMsg map[string]string
	if err := json.Unmarshal([]byte(ordersEv.Records[0].Body), &deliveryMsg); err != nil || !strings.HasPrefix(deliveryMsg["delivery"], "thin:5001:") ||
		!strings.HasPrefix(receipt.DeliveryID, "thin:5001:") {
		t.Fatalf("sample delivery %q, stored %q: want both thin:5001:…", deliveryMsg["delivery"], receipt.DeliveryID)
	}
	deliveryMsg["delivery"] = receipt.DeliveryID
	stored, _ := json.Marshal(deliveryMsg)
	ordersEv.Records[0].Body = string(stored)
	queued := drain(t, hub.OrderQueue)
	if len(queued) != 1 || !sameJSON(string(queued[0].Body), ordersEv.Records[0].Body) {
		t.Fatalf("orders queue holds %d messages (%v), want the sample's body %s", len(queued), queued, ordersEv.Records[0].Body)
	}
	// Tray repeats the same body for the order's next change: stored and queued again,
	// never answered as a duplicate (the read of the order decides what changed).
	again, err := httpFn(ctx, hookEv)
	if err != nil || again.StatusCode != 200 || strings.Contains(again.Body, `"duplicate":true`) {
		t.Fatalf("repeated webhook: %d %s (%v)", again.StatusCode, again.Body, err)
	}
	repeat := drain(t, hub.OrderQueue)
	if len(repeat) != 1 {
		t.Fatalf("a repeated notification queued %d messages, want 1", len(repeat))
	}

	// Orders: the worker fetches order 5001, accepts it and reserves the unit.
	ordersFn := as("orders", hub.OrdersFunction())
	if r, err := ordersFn(ctx, ordersEv); err != nil || len(r.BatchItemFailures) != 0 {
		t.Fatalf("orders function: %+v %v", r, err)
	}
	orderID := domain.OrderID(demoConn, "5001")
	rec, err := hub.Store.GetOrder(ctx, demoTenant, orderID)
	if err != nil || rec.State != domain.OrderAccepted || len(rec.Reserved) == 0 {
		t.Fatalf("order after the orders function: %+v (%v)", rec, err)
	}
	var accepted *queue.Message
	published := drain(t, hub.EventQueue)
	for i, m := range published {
		var nm notify.Message
		if json.Unmarshal(m.Body, &nm) == nil && nm.Type == notify.EventOrderAccepted && nm.Endpoint == "demo-erp" {
			accepted = &published[i]
		}
	}
	if accepted == nil {
		t.Fatalf("no order.accepted for demo-erp among %d published events", len(published))
	}
	_ = drain(t, hub.OrderQueue) // the "received" write-back; not this test's subject

	// Events: the published event and the sample both reach the endpoint, signed.
	eventsFn := as("events", hub.EventsFunction())
	for _, ev := range []events.SQSEvent{
		asDelivered(loadEvent[events.SQSEvent](t, "events/order-accepted.json"), *accepted),
		loadEvent[events.SQSEvent](t, "events/order-accepted.json"),
	} {
		if r, err := eventsFn(ctx, ev); err != nil || len(r.BatchItemFailures) != 0 {
			t.Fatalf("events function: %+v %v", r, err)
		}
	}
	posts := erp.received()
	if len(posts) != 2 {
		t.Fatalf("endpoint received %d posts, want 2", len(posts))
	}
	var sampleMsg notify.Message
	_ = json.Unmarshal([]byte(loadEvent[events.SQSEvent](t, "events/order-accepted.json").Records[0].Body), &sampleMsg)
	for i, p := range posts {
		if err := notify.Verify(whsec, p.header, p.body, 5*time.Minute, time.Now()); err != nil {
			t.Errorf("post %d: signature: %v", i, err)
		}
		if !strings.Contains(string(p.body), `"type":"order.accepted"`) {
			t.Errorf("post %d: body %s", i, p.body)
		}
	}
	if id := posts[1].header.Get("webhook-id"); id != sampleMsg.EventID {
		t.Errorf("sample event posted with webhook-id %q, want %q", id, sampleMsg.EventID)
	}

	// A delivery message naming a delivery that is not stored cannot succeed on retry:
	// it is dead-lettered with its reason, and the batch reports no failure.
	gone := `{"kind":"delivery","tenant":"demo","connection":"demo-tray-1","delivery":"sha256:00000000000000000000000000000000"}`
	if err := hub.OrderQueue.Send(ctx, queue.OutMessage{Body: []byte(gone), Key: "gone"}); err != nil {
		t.Fatalf("send: %v", err)
	}
	goneMsg := receivePush(t, hub.OrderQueue) // not deleted: the handler settles it
	if r, err := ordersFn(ctx, asDelivered(loadEvent[events.SQSEvent](t, "orders/delivery.json"), goneMsg)); err != nil || len(r.BatchItemFailures) != 0 {
		t.Fatalf("orders function on a missing delivery: %+v %v, want it settled (dead-lettered)", r, err)
	}
	dead, err := hub.OrderQueue.ListDead(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || string(dead[0].Body) != gone || !strings.Contains(dead[0].Reason, "not stored") {
		t.Fatalf("orders dead letters %+v, want the missing delivery with its reason", dead)
	}

	// Order poll: the Tray connection's safety-net poll lists order 5001 again (the same
	// record: one order), and no delivery is old enough to count as lost.
	pollFn := as("order-poll", hub.OrderPollFunction())
	out, err := pollFn(ctx, loadEvent[struct{}](t, "order-poll/schedule.json"))
	if err != nil || out.Polled != 1 || out.Swept != 0 {
		t.Fatalf("order-poll function: %+v %v, want the one Tray order polled", out, err)
	}
	if all, _, err := hub.Store.ListOrders(ctx, demoTenant, store.OrderFilter{}, "", 10); err != nil || len(all) != 1 {
		t.Fatalf("%d orders after the poll (%v), want 1", len(all), err)
	}
	if polled := drain(t, hub.OrderQueue); len(polled) != 1 {
		t.Fatalf("the poll queued %d deliveries, want 1", len(polled))
	}
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
