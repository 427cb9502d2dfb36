package woocommerce

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/woocommerce/woocommercesim"
)

// memSecrets is an in-memory platform.Secrets.
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

func (m *memSecrets) set(ref, key, value string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[ref][key] = value
}

// env is a simulator on loopback, one store, and a connector for it.
type env struct {
	t       *testing.T
	sim     *woocommercesim.Server
	secrets *memSecrets
	conn    domain.Connection
	c       *Connector
}

const (
	testStore  = "store1"
	testKey    = "ck_0123456789abcdef0123456789abcdef01234567"
	testSecret = "cs_fedcba9876543210fedcba9876543210fedcba98"
	testHook   = "whsec-test"
)

// testConnCreated is when the test connection was created: polling starts there.
var testConnCreated = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, simOpts woocommercesim.Options, settings map[string]string, opts ...Options) *env {
	t.Helper()
	if simOpts.RateLimitPerMin == 0 {
		// Tests that are not about limits run at a fast, matching limit: the limiter paces
		// starts window/limit apart, which at the default 120/min would be 500 ms.
		simOpts.RateLimitPerMin = 60000
	}
	sim := woocommercesim.New(simOpts)
	sim.AddStore(testStore, woocommercesim.StoreConfig{ConsumerKey: testKey, ConsumerSecret: testSecret})
	base, err := sim.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	e := &env{t: t, sim: sim}
	e.secrets = &memSecrets{data: map[string]map[string]string{
		"woo/conn1": {"consumer_key": testKey, "consumer_secret": testSecret, "webhook_secret": testHook},
	}}
	s := map[string]string{"base_url": woocommercesim.StoreURL(base, testStore), "insecure_http": "true",
		"rate_limit_per_min": strconv.Itoa(simOpts.RateLimitPerMin)}
	maps.Copy(s, settings)
	e.conn = domain.Connection{ID: "conn1", Tenant: "t1", Platform: Name, Enabled: true,
		Settings: s, SecretRef: "woo/conn1", Currency: "BRL", CreatedAt: testConnCreated}
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.RateWindow == 0 && simOpts.RateWindow != 0 {
		o.RateWindow = simOpts.RateWindow
	}
	e.c = New(e.secrets, o)
	return e
}

func (e *env) calls() woocommercesim.CallStats { return e.sim.Calls(testStore) }

// products adds n simple products and returns their ids.
func (e *env) products(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		id, err := e.sim.AddProduct(testStore, "SKU-"+strconv.Itoa(i), 0, dec("10.00"))
		if err != nil {
			e.t.Fatal(err)
		}
		ids[i] = strconv.FormatInt(id, 10)
	}
	return ids
}

func (e *env) item(id string) woocommercesim.Item {
	n, _ := strconv.ParseInt(id, 10, 64)
	it, ok := e.sim.Item(testStore, n)
	if !ok {
		e.t.Fatalf("no item %s", id)
	}
	return it
}

func brl(s string) *domain.Money {
	m := domain.MustMoney(s, "BRL")
	return &m
}

func i64(n int64) *int64 { return &n }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func kindOf(err error) platform.Kind { return platform.AsError(err).Kind }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}
