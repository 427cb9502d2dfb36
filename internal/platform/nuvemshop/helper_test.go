package nuvemshop

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
	"github.com/ponte-hub/ponte/internal/platform/nuvemshop/nuvemshopsim"
)

// memSecrets is an in-memory platform.Secrets.
type memSecrets struct {
	mu   sync.Mutex
	data map[string]map[string]string
	gets int
}

func (m *memSecrets) GetSecret(_ context.Context, ref string) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets++
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

func (m *memSecrets) set(ref, key, value string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[ref][key] = value
}

const (
	testStore  = "123456"
	testToken  = "tok-0123456789abcdef"
	testSecret = "app-secret-test"
	secretRef  = "nuvemshop/conn1"
)

// env is a simulator on loopback with store testStore and a connector for it.
type env struct {
	t       *testing.T
	sim     *nuvemshopsim.Server
	secrets *memSecrets
	conn    domain.Connection
	c       *Connector
}

func newEnv(t *testing.T, simOpts nuvemshopsim.Options, settings map[string]string) *env {
	t.Helper()
	sim := nuvemshopsim.New(simOpts)
	sim.AddStore(testStore, nuvemshopsim.StoreConfig{AccessToken: testToken, AppSecret: testSecret})
	base, err := sim.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	e := &env{t: t, sim: sim}
	e.secrets = &memSecrets{data: map[string]map[string]string{
		secretRef: {"access_token": testToken, "app_secret": testSecret},
	}}
	s := map[string]string{"base_url": nuvemshopsim.BaseURL(base), "store_id": testStore, "user_agent": "Ponte tests (dev@ponte.example)"}
	maps.Copy(s, settings)
	e.conn = domain.Connection{ID: "conn1", Tenant: "t1", Platform: Name, Enabled: true,
		Settings: s, SecretRef: secretRef, Currency: "BRL"}
	e.c = New(e.secrets, Options{})
	return e
}

// seed adds n products "1".."n", each with one variant "100{i}" and sku "sku-{i}".
func (e *env) seed(n int) {
	e.t.Helper()
	for i := 1; i <= n; i++ {
		if err := e.sim.AddProduct(testStore, pid(i), vid(i), "sku-"+strconv.Itoa(i), 0, dec("10.00")); err != nil {
			e.t.Fatal(err)
		}
	}
}

func pid(i int) string { return strconv.Itoa(i) }
func vid(i int) string { return strconv.Itoa(1000 + i) }

func target(i int) platform.Target {
	return platform.Target{SKU: "sku-" + strconv.Itoa(i), ProductID: pid(i), VariantID: vid(i)}
}

func (e *env) stock(i int) int64 {
	v, ok := e.sim.Variant(testStore, vid(i))
	if !ok || v.Stock == nil {
		e.t.Fatalf("variant %s missing or unlimited", vid(i))
	}
	return *v.Stock
}

func (e *env) calls() nuvemshopsim.CallStats { return e.sim.Calls(testStore) }

func brl(s string) *domain.Money {
	m := domain.MustMoney(s, "BRL")
	return &m
}

func i64(n int64) *int64 { return &n }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func kindOf(err error) platform.Kind { return platform.AsError(err).Kind }
