package tray

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestFetchOrderGolden(t *testing.T) {
	e := newEnv(t, traysim.Options{}, nil)
	payload, err := os.ReadFile(filepath.Join("testdata", "order_complete.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AddOrder(testStore, payload); err != nil {
		t.Fatal(err)
	}
	o, err := e.c.FetchOrder(context.Background(), e.conn, "48213")
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "order_complete.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("normalised order differs from %s (-update to accept):\n%s", golden, got)
	}
	// Spot checks that do not depend on the golden file being right.
	if !o.PlacedAt.Equal(time.Date(2025, 11, 29, 1, 41, 7, 0, time.UTC)) {
		t.Fatalf("placed_at %v: 22:41 in São Paulo is 01:41 UTC next day", o.PlacedAt)
	}
	if o.Shipping == nil || o.Shipping.Street != "Avenida Paulista" || o.Billing == nil || o.Billing.Street != "Rua Harmonia" {
		t.Fatalf("addresses: shipping %+v billing %+v", o.Shipping, o.Billing)
	}
	if len(o.Lines) != 2 || o.Lines[0].VariantID != "5521" || o.Lines[1].VariantID != "" || o.Lines[0].Quantity != 2 {
		t.Fatalf("lines %+v", o.Lines)
	}
}

func TestFetchOrderErrors(t *testing.T) {
	e := newEnv(t, traysim.Options{}, nil)
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "1"); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "order 1 not found") {
		t.Fatalf("missing order: %v", err)
	}
	_ = e.sim.AddOrder(testStore, []byte(`{"Order":{"id":"2","date":"2025-01-02","total":"-5"}}`))
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "2"); kindOf(err) != platform.Permanent || !strings.Contains(err.Error(), "Order.total") {
		t.Fatalf("bad total: %v", err)
	}
	e.sim.InjectFault(testStore, traysim.Fault{Kind: traysim.FaultMalformed})
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "2"); kindOf(err) != platform.Transient {
		t.Fatalf("garbage: %v", err)
	}
	if _, err := e.c.FetchOrder(context.Background(), e.conn, "1/../2"); kindOf(err) != platform.Permanent {
		t.Fatalf("bad id: %v", err)
	}
}

func FuzzNormaliseOrder(f *testing.F) {
	payload, err := os.ReadFile(filepath.Join("testdata", "order_complete.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(payload)
	f.Add([]byte(`{"Order":{"id":"1","date":"2025-01-01","ProductsSold":[{"ProductsSold":{"quantity":"1e9999","price":"1"}}]}}`))
	f.Add([]byte(`{"Order":{"id":1,"date":"2025-02-30","hour":"25:61","Customer":[],"CustomerAddress":[]}}`))
	f.Add([]byte(`{"Order":[]}`))
	f.Add([]byte(`null`))
	conn := domain.Connection{ID: "c1", Tenant: "t1"}
	sp := platform.SaoPaulo()
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := normaliseOrder(body, conn, settings{currency: "BRL", lineDiscounts: true}, sp)
		if err != nil {
			return
		}
		if o.PlatformID == "" || o.PlacedAt.IsZero() || o.Total.Currency != "BRL" {
			t.Fatalf("accepted an incomplete order %+v", o)
		}
		for _, l := range o.Lines {
			if l.Quantity <= 0 || l.UnitPrice.Amount.IsNegative() {
				t.Fatalf("bad line %+v", l)
			}
		}
	})
}
