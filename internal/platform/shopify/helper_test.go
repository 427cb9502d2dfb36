package shopify

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/shopify/shopifysim"
)

type memSecrets struct {
	mu   sync.Mutex
	data map[string]map[string]string
}

func (m *memSecrets) GetSecret(_ context.Context, ref string) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.data[ref]
	if !ok {
		return nil, errors.New("no such secret")
	}
	return maps.Clone(v), nil
}

func (m *memSecrets) PutSecret(_ context.Context, ref string, values map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[ref] = maps.Clone(values)
	return nil
}

const (
	testShop   = "shop1"
	testToken  = "shpat_0123456789abcdef"
	testSecret = "hush-webhook-secret"
)

// env is a simulator on loopback with one shop and a connector for it.
type env struct {
	t       *testing.T
	sim     *shopifysim.Server
	secrets *memSecrets
	conn    domain.Connection
	c       *Connector
}

func newEnv(t *testing.T, simOpts shopifysim.Options, cfg shopifysim.StoreConfig, settings map[string]string) *env {
	t.Helper()
	sim := shopifysim.New(simOpts)
	cfg.Token = testToken
	sim.AddStore(testShop, cfg)
	base, err := sim.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	e := &env{t: t, sim: sim}
	e.secrets = &memSecrets{data: map[string]map[string]string{
		"shopify/conn1": {"access_token": testToken, "webhook_secret": testSecret},
	}}
	s := map[string]string{"base_url": shopifysim.BaseURL(base, testShop), "location_id": shopifysim.Location}
	maps.Copy(s, settings)
	for k, v := range s {
		if v == "" {
			delete(s, k)
		}
	}
	e.conn = domain.Connection{ID: "conn1", Tenant: "t1", Platform: Name, Enabled: true,
		Settings: s, SecretRef: "shopify/conn1", Currency: "BRL"}
	e.c = New(e.secrets, Options{})
	return e
}

// seed adds n one-variant products with stock 5 and price 10.00.
func (e *env) seed(n int) []platform.Target {
	e.t.Helper()
	out := make([]platform.Target, n)
	for i := range n {
		sku := "SKU-" + strconv.Itoa(i)
		p, v, err := e.sim.AddProduct(testShop, sku, 5, dec("10.00"))
		if err != nil {
			e.t.Fatal(err)
		}
		out[i] = platform.Target{SKU: sku, ProductID: p, VariantID: v}
	}
	return out
}

func (e *env) ops(name string) int64 { return e.sim.Calls(testShop).ByOperation[name] }

func (e *env) stock(variant string) int64 {
	e.t.Helper()
	q, ok := e.sim.Stock(testShop, variant)
	if !ok {
		e.t.Fatalf("variant %s has no stock at the location", variant)
	}
	return q
}

func brl(s string) *domain.Money {
	m := domain.MustMoney(s, "BRL")
	return &m
}

func i64(n int64) *int64 { return &n }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func kindOf(err error) platform.Kind { return platform.AsError(err).Kind }

func noErrors(t *testing.T, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
}
