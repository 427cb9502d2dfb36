package tray

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
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
)

// memSecrets is an in-memory platform.Secrets.
type memSecrets struct {
	mu   sync.Mutex
	data map[string]map[string]string
	puts int
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
	m.puts++
	return nil
}

func (m *memSecrets) get(ref string) map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.data[ref])
}

// clock is a movable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a simulator on loopback, one store "store1", and a connector for it.
type env struct {
	t       *testing.T
	sim     *traysim.Server
	base    string
	secrets *memSecrets
	conn    domain.Connection
	c       *Connector
	clock   *clock
}

const testStore = "store1"

func newEnv(t *testing.T, simOpts traysim.Options, settings map[string]string) *env {
	t.Helper()
	if simOpts.RateLimitPerMin == 0 {
		// Tests that are not about limits run at a fast, matching limit: the limiter
		// paces starts window/limit apart, which at Tray's 180/min would be 333 ms.
		simOpts.RateLimitPerMin = fastLimitPerMin
	}
	sim := traysim.New(simOpts)
	sim.AddStore(testStore, traysim.StoreConfig{ConsumerKey: "ck-test", ConsumerSecret: "cs-test", Code: "code-test"})
	base, err := sim.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	e := &env{t: t, sim: sim, base: base, clock: &clock{t: time.Now()}}
	e.secrets = &memSecrets{data: map[string]map[string]string{
		"tray/conn1": {"consumer_key": "ck-test", "consumer_secret": "cs-test", "code": "code-test"},
	}}
	s := map[string]string{"api_address": traysim.APIAddress(base, testStore), "store_id": testStore,
		"rate_limit_per_min": strconv.Itoa(simOpts.RateLimitPerMin)}
	maps.Copy(s, settings)
	e.conn = domain.Connection{ID: "conn1", Tenant: "t1", Platform: Name, Enabled: true,
		Settings: s, SecretRef: "tray/conn1", Currency: "BRL"}
	e.c = New(e.secrets, Options{Now: e.clock.Now})
	return e
}

const fastLimitPerMin = 60000

func (e *env) endpoint(name string) int64 { return e.sim.Calls(testStore).ByEndpoint[name] }

func brl(s string) *domain.Money {
	m := domain.MustMoney(s, "BRL")
	return &m
}

func i64(n int64) *int64 { return &n }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func kindOf(err error) platform.Kind { return platform.AsError(err).Kind }

func seedProducts(sim *traysim.Server, n int) {
	for i := 1; i <= n; i++ {
		sim.AddProduct(testStore, strconv.Itoa(i), 0, dec("10.00"))
	}
}
