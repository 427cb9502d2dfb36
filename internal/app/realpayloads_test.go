//go:build realpayloads

// The real-payload run: the order samples the platforms publish (kept outside this
// repository, ../shared/real-payloads by default; PONTE_REAL_PAYLOADS overrides) go
// through each platform's simulator, webhook and connector into the hub, and one line
// per sample says what reached the ERP. Run it with scripts/real-payloads.sh; CI does
// not, as the samples are other people's data and not in the repository.
package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/ingest"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/nuvemshop/nuvemshopsim"
	"github.com/ponte-hub/ponte/internal/platform/platformsim"
	"github.com/ponte-hub/ponte/internal/platform/shopify/shopifysim"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
	"github.com/ponte-hub/ponte/internal/platform/woocommerce/woocommercesim"
)

// sample is one published order, as one or several order bodies.
type sample struct {
	platform, file string
	// repair, when set, is the one edit that makes a sample published as invalid JSON
	// parse; the run reports the sample as published first, then repaired.
	repair [2]string
}

var samples = []sample{
	{"tray", "tray/order_complete_docs_2021-04.json", [2]string{}},
	{"tray", "tray/order_complete_docs_2021-08.json", [2]string{`"Notebook Alienware Gamer,`, `"Notebook Alienware Gamer",`}},
	{"shopify", "shopify/orders_create_docs_2025-01.json", [2]string{}},
	{"shopify", "shopify/order_rest_fixture_python_api.json", [2]string{}},
	{"woocommerce", "woocommerce/order_v3_docs_create_response.json", [2]string{}},
	{"woocommerce", "woocommerce/orders_v3_docs_list_response.json", [2]string{}},
	{"nuvemshop", "nuvemshop/order_get_by_id_docs.json", [2]string{}},
	{"nuvemshop", "nuvemshop/orders_list_docs.json", [2]string{}},
}

func TestRealPayloads(t *testing.T) {
	dir := os.Getenv("PONTE_REAL_PAYLOADS")
	if dir == "" {
		dir = "../../../shared/real-payloads"
	}
	for _, s := range samples {
		raw, err := os.ReadFile(filepath.Join(dir, s.file))
		if err != nil {
			t.Fatalf("%s: %v", s.file, err)
		}
		bodies, err := splitOrders(s.platform, raw)
		if err != nil && s.repair[0] != "" {
			fmt.Printf("%-11s %-46s as published: not JSON (%v); repaired in memory: %q → %q\n", s.platform, s.file, err, s.repair[0], s.repair[1])
			bodies, err = splitOrders(s.platform, bytes.Replace(raw, []byte(s.repair[0]), []byte(s.repair[1]), 1))
		}
		if err != nil {
			fmt.Printf("%-11s %-46s REFUSED: %v\n", s.platform, s.file, err)
			continue
		}
		for i, body := range bodies {
			name := s.file
			if len(bodies) > 1 {
				name = fmt.Sprintf("%s[%d]", s.file, i)
			}
			fmt.Printf("%-11s %-46s %s\n", s.platform, name, runSample(t, s.platform, body))
		}
	}
}

// splitOrders returns the order bodies a sample holds: one, or each element of a list,
// unwrapped from {"order": …} where the platform's REST answer wraps it.
func splitOrders(platformName string, raw []byte) ([]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if !json.Valid(raw) {
		var v any
		return nil, json.Unmarshal(raw, &v)
	}
	if raw[0] == '[' {
		var list []json.RawMessage
		err := json.Unmarshal(raw, &list)
		return list, err
	}
	if platformName == "shopify" {
		var env struct {
			Order json.RawMessage `json:"order"`
		}
		if json.Unmarshal(raw, &env) == nil && len(env.Order) > 0 {
			return []json.RawMessage{env.Order}, nil
		}
	}
	return []json.RawMessage{raw}, nil
}

// runSample puts one order body on a fresh simulated store, tells the hub as the
// platform would, and describes the order the ERP then reads.
func runSample(t *testing.T, platformName string, body []byte) string {
	w := newPlatformWorld(t, openEmbedded(t), platformName, 1, false, domain.Rules{AllowBackorders: true})
	ctx := context.Background()
	conn, err := w.hub.Store.GetConnection(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	var d platformsim.Delivery
	id := topID(body)
	switch k := w.sim.(type) {
	case *traysim.Kit:
		if err := k.Server.AddOrder("store1", body); err != nil {
			return "REFUSED by the simulator: " + err.Error()
		}
		form := url.Values{"seller_id": {"1"}, "scope_id": {id}, "scope_name": {"order"}, "act": {"update"}}
		d = platformsim.Delivery{Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(form.Encode())}
	case *nuvemshopsim.Kit:
		if err := k.Server.AddOrder("store1", body); err != nil {
			return "REFUSED by the simulator: " + err.Error()
		}
		if d, err = k.Server.Notify("store1", "order/updated", id); err != nil {
			return "REFUSED by the simulator: " + err.Error()
		}
	case *shopifysim.Kit:
		if d, err = k.DeliverOrder("store1", "orders/updated", body); err != nil {
			return "REFUSED by the simulator: " + err.Error()
		}
	case *woocommercesim.Kit:
		if d, err = k.DeliverOrder("store1", "updated", body); err != nil {
			return "REFUSED by the simulator: " + err.Error()
		}
	default:
		t.Fatalf("no sample runner for %s", platformName)
	}
	// The ERP knows the products the sample sells (its own catalogue): read the order
	// once through the connector to learn them, as the first sync would have linked them.
	o, err := readThroughConnector(ctx, w.hub.Connectors[platformName], conn, d, id)
	if err != nil {
		return "connector refused it: " + err.Error()
	}
	knowProducts(t, w, o)
	code, answer := w.webhookBody(platformName, "c1", d)
	if code != http.StatusOK {
		return fmt.Sprintf("webhook answered %d %s", code, answer)
	}
	oid := domain.OrderID("c1", o.PlatformID)
	var rec domain.OrderRecord
	w.waitFor("the sample's order", func() bool {
		status, b := w.call(http.MethodGet, "/v1/erp/orders/"+oid, "")
		return status == http.StatusOK && json.Unmarshal(b, &rec) == nil && rec.State != ""
	})
	return describe(rec)
}

func readThroughConnector(ctx context.Context, c platform.Connector, conn domain.Connection, d platformsim.Delivery, id string) (domain.Order, error) {
	ev, err := c.VerifyWebhook(ctx, conn, platform.WebhookRequest{Header: d.Header, Query: d.Query, Body: d.Body})
	if err != nil {
		return domain.Order{}, err
	}
	if ev.Order != nil {
		return *ev.Order, nil
	}
	return c.FetchOrder(ctx, conn, cmpOr(ev.ResourceID, id))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// knowProducts gives the ERP a product, stock and price for each line: by its SKU, or
// for a line without one, a SKU of its own mapped to the line's platform product.
func knowProducts(t *testing.T, w *orderWorld, o domain.Order) {
	ctx := context.Background()
	var changes []ingest.Change
	for i, l := range o.Lines {
		sku := strings.TrimSpace(l.SKU)
		if sku == "" {
			sku = fmt.Sprintf("SAMPLE-LINE-%d", i+1)
			if err := w.hub.Store.PutMapping(ctx, domain.Mapping{Tenant: shopTenant, ConnectionID: "c1", SKU: sku, ProductID: l.ProductID,
				VariantID: l.VariantID}); err != nil {
				t.Fatal(err)
			}
		}
		changes = append(changes,
			ingest.Change{Kind: ingest.KindProduct, SKU: sku, Version: 1, Product: &domain.Product{SKU: sku, Name: cmpOr(l.Name, sku),
				Publish: true, SyncStock: true, Version: 1}},
			ingest.Change{Kind: ingest.KindStock, SKU: sku, Version: 1, Stock: &domain.StockLevel{Warehouse: ingest.DefaultWarehouse,
				Quantity: 1000, Version: 1}},
			ingest.Change{Kind: ingest.KindPrice, SKU: sku, Version: 1, Price: &domain.PriceInfo{Price: domain.Money{Amount: decimal.NewFromInt(10),
				Currency: "BRL"}, Version: 1}})
	}
	if _, err := w.hub.Ingest.Apply(ctx, shopTenant, changes); err != nil {
		t.Fatal(err)
	}
}

// topID is the order's id: at the top, or inside Tray's {"Order": …} envelope.
func topID(body []byte) string {
	var v struct {
		ID    json.RawMessage `json:"id"`
		Order struct {
			ID json.RawMessage `json:"id"`
		} `json:"Order"`
	}
	_ = json.Unmarshal(body, &v)
	id := v.ID
	if len(id) == 0 {
		id = v.Order.ID
	}
	return strings.Trim(string(id), `"`)
}

// describe is the sample's line: what the ERP reads of the order.
func describe(rec domain.OrderRecord) string {
	o := rec.Order
	var b strings.Builder
	fmt.Fprintf(&b, "%s", rec.State)
	for _, r := range rec.Rejections {
		fmt.Fprintf(&b, " (%s)", r.Message)
	}
	c := o.Customer
	fmt.Fprintf(&b, " | customer %q doc=%q ie=%q email=%q phones=%d", cmpOr(c.Name, c.CompanyName), c.Document, c.StateRegistration, c.Email, len(c.Phones))
	fmt.Fprintf(&b, " | billing=%s shipping=%s", addr(o.Billing), addr(o.Shipping))
	if o.Pickup != nil {
		fmt.Fprintf(&b, " pickup=%q", o.Pickup.Name)
	}
	b.WriteString(" | lines")
	for _, l := range o.Lines {
		fmt.Fprintf(&b, " [%s %d×%s −%s", cmpOr(l.SKU, "(no sku)"), l.Quantity, l.UnitPrice.Amount, l.Discount.Amount)
		if l.Tax != nil {
			fmt.Fprintf(&b, " tax %s", l.Tax.Amount)
		}
		b.WriteString("]")
	}
	fmt.Fprintf(&b, " | ship %q %s | pay %q | discount %s", o.ShippingMethod, o.ShippingCost.Amount, o.PaymentMethod, o.Discount.Amount)
	if o.Tax != nil {
		fmt.Fprintf(&b, " tax %s", o.Tax.Amount)
		if o.TaxesIncluded {
			b.WriteString(" (included)")
		}
	}
	if o.Fees != nil {
		fmt.Fprintf(&b, " fees %s", o.Fees.Amount)
	}
	fmt.Fprintf(&b, " | total %s %s", o.Total.Amount, o.Total.Currency)
	if len(o.CouponCodes) > 0 {
		fmt.Fprintf(&b, " coupons %v", o.CouponCodes)
	}
	if o.TotalMismatch != "" {
		fmt.Fprintf(&b, " | TOTAL FLAGGED: %s", o.TotalMismatch)
	} else {
		b.WriteString(" | total checks")
	}
	fmt.Fprintf(&b, " | status %q", o.PlatformStatus)
	return b.String()
}

func addr(a *domain.Address) string {
	if a == nil {
		return "none"
	}
	return fmt.Sprintf("%q", strings.TrimSpace(a.Street+" "+a.Number+", "+a.City))
}
