package shopifysim_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/platformsim"
	"github.com/ponte-hub/ponte/internal/platform/shopify"
	"github.com/ponte-hub/ponte/internal/platform/shopify/shopifysim"
)

// kitShop starts a kit with one shop and a connector for it.
func kitShop(t *testing.T) (*shopifysim.Kit, *shopify.Connector, domain.Connection) {
	t.Helper()
	k := shopifysim.NewKit()
	if _, err := k.Start(":0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	st, err := k.NewStore("s1", 0)
	if err != nil {
		t.Fatal(err)
	}
	c := shopify.New(secrets{"ref": st.Secrets}, shopify.Options{})
	conn := domain.Connection{ID: "s1", Settings: st.Settings, SecretRef: "ref", Currency: "BRL",
		CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return k, c, conn
}

// TestDeliverOrderVerbatim: a REST order body goes out byte for byte, signed so the
// connector verifies it, and the same order is then readable with order(id:) and the
// poll, with the same money.
func TestDeliverOrderVerbatim(t *testing.T) {
	k, c, conn := kitShop(t)
	body, err := os.ReadFile(filepath.Join("..", "testdata", "orders_cancelled_2025.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := k.DeliverOrder("s1", "orders/updated", body)
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Body) != string(body) || d.Header.Get(shopify.HeaderTopic) != "orders/updated" {
		t.Fatal("the delivery is not the body as given")
	}
	ctx := context.Background()
	ev, err := c.VerifyWebhook(ctx, conn, platform.WebhookRequest{Header: d.Header, Query: d.Query, Body: d.Body})
	if err != nil {
		t.Fatal(err)
	}
	fetched, err := c.FetchOrder(ctx, conn, ev.ResourceID)
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.PollOrders(ctx, conn, "")
	if err != nil || len(page.Orders) != 1 {
		t.Fatalf("poll: %d orders, %v", len(page.Orders), err)
	}
	for name, o := range map[string]domain.Order{"webhook": *ev.Order, "fetch": fetched, "poll": page.Orders[0]} {
		if o.PlatformID != "6120334455667" || o.PlatformStatus != "cancelled" || o.Total.Amount.StringFixed(2) != "106.85" ||
			o.Tax == nil || o.Tax.Amount.StringFixed(2) != "6.05" || len(o.Lines) != 2 || o.Lines[0].Tax == nil || o.CheckTotal() != "" ||
			o.Lines[0].VariantID != "gid://shopify/ProductVariant/46600112233" || o.PaymentMethod != "pix, manual" || o.Note == "" {
			t.Fatalf("%s: %+v %s", name, o, o.CheckTotal())
		}
	}
	// Tampering is caught, and a body without an id is refused before it is signed.
	tampered := append([]byte(nil), body...)
	tampered[len(tampered)-3] = ' '
	if _, err := c.VerifyWebhook(ctx, conn, platform.WebhookRequest{Header: d.Header, Body: tampered}); platform.AsError(err).Kind != platform.Auth {
		t.Fatalf("tampered body: %v", err)
	}
	if _, err := k.DeliverOrder("s1", "orders/create", []byte(`{"order":{"id":1}}`)); err == nil {
		t.Fatal("a wrapped body was delivered")
	}
	if _, err := k.DeliverOrder("s1", "products/update", body); err == nil {
		t.Fatal("a non-order topic was delivered")
	}
}

// TestPollCatchesALostWebhook: an order placed while its webhook is lost is imported by
// the poll, once, and a later status change comes in on the next poll.
func TestPollCatchesALostWebhook(t *testing.T) {
	k, c, conn := kitShop(t)
	p, err := k.NewProduct("s1", "SKU-1", 10, decimal.RequireFromString("9.90"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	order := platformsim.SimOrder{UpdatedAt: at, Lines: []platformsim.SimOrderLine{{SKU: "SKU-1", Product: p, Quantity: 2, UnitPrice: decimal.RequireFromString("9.90")}}}
	id, _, err := k.PlaceOrder("s1", order) // the delivery is dropped
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	page, err := c.PollOrders(ctx, conn, "")
	if err != nil || len(page.Orders) != 1 || page.Orders[0].PlatformID != id || page.Orders[0].PlatformStatus != "paid" {
		t.Fatalf("poll: %+v %v", page.Orders, err)
	}
	next, err := c.PollOrders(ctx, conn, page.Next)
	if err != nil || len(next.Orders) != 0 {
		t.Fatalf("repeat poll: %+v %v", next.Orders, err)
	}
	order.ID, order.Status, order.UpdatedAt = id, "cancelled", at.Add(time.Minute)
	if _, _, err := k.PlaceOrder("s1", order); err != nil {
		t.Fatal(err)
	}
	last, err := c.PollOrders(ctx, conn, next.Next)
	if err != nil || len(last.Orders) != 1 || last.Orders[0].PlatformStatus != "cancelled" {
		t.Fatalf("after the change: %+v %v", last.Orders, err)
	}
}

// TestSimulatorPollRules: the orders poll needs a token, a first within Shopify's
// limits and the updated_at filter the simulator interprets.
func TestSimulatorPollRules(t *testing.T) {
	sim := shopifysim.New(shopifysim.Options{})
	sim.AddStore("s", shopifysim.StoreConfig{Token: "tok"})
	base, err := sim.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	url := shopifysim.BaseURL(base, "s") + "/admin/api/2026-04/graphql.json"
	query := "query PollOrders($first: Int!, $after: String, $query: String!) { orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) { nodes { id } } }"
	poll := func(tok string, vars map[string]any) (int, string) {
		code, out := post(t, url, tok, map[string]any{"operationName": "PollOrders", "query": query, "variables": vars})
		if errs, _ := out["errors"].([]any); len(errs) > 0 {
			return code, errs[0].(map[string]any)["extensions"].(map[string]any)["code"].(string)
		}
		return code, ""
	}
	ok := map[string]any{"first": 5, "query": "updated_at:>='2026-01-01T00:00:00Z'"}
	if code, _ := poll("bad", ok); code != http.StatusUnauthorized {
		t.Fatalf("bad token: %d", code)
	}
	if _, e := poll("tok", ok); e != "" {
		t.Fatalf("valid poll: %s", e)
	}
	for _, vars := range []map[string]any{
		{"first": 0, "query": "updated_at:>='2026-01-01T00:00:00Z'"},
		{"first": 5, "query": "created_at:>2026"},
		{"first": 5, "query": "updated_at:>='yesterday'"},
		{"first": 5, "query": "updated_at:>='2026-01-01T00:00:00Z'", "after": "not-a-cursor"},
	} {
		if _, e := poll("tok", vars); e != "BAD_REQUEST" {
			t.Fatalf("%v: %q", vars, e)
		}
	}
	if _, e := poll("tok", map[string]any{"first": 250, "query": "updated_at:>='2026-01-01T00:00:00Z'"}); e != "MAX_COST_EXCEEDED" {
		t.Fatalf("a page over the cost limit: %q", e)
	}
}
