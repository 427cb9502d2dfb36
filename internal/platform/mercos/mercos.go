// Package mercos is the Mercos (formerly Meus Pedidos) connector: batched stock
// adjustments, product price and catalogue writes, customer (clientes) sync, order
// polling by alterado_apos, status write-back and catalogue reads over Mercos' REST API
// ({base_url}/v1/..., ApplicationToken and CompanyToken headers).
//
// Mercos throttles per token pair across every route and answers 429 with
// {"limite_de_requisicoes":1,"tempo_ate_permitir_novamente":N}; the connector therefore
// sends one request at a time per connection, spaced by the configured rate, and pauses
// the connection for the wait Mercos asks for. Mercos has no webhooks: orders come in
// through PollOrders.
package mercos

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// Name is the platform name used in routes and connections.
const Name = "mercos"

// Documented defaults. Every uncertain number is a connection setting.
const (
	// DefaultBaseURL is Mercos' production API; the sandbox is SandboxBaseURL.
	DefaultBaseURL = "https://app.mercos.com/api"
	SandboxBaseURL = "https://sandbox.mercos.com/api"
	// DefaultRateLimitPerMin: the sandbox was measured accepting about one request per
	// 5.5 s; production limits are not published. 10 a minute stays under the sandbox.
	DefaultRateLimitPerMin = 10
	DefaultRateWindow      = time.Minute
	DefaultTimeout         = 30 * time.Second
	// MaxBatch is the documented ceiling of /v1/ajustar_estoque_em_lote.
	MaxBatch = 300
	// Epoch is the "from the beginning" alterado_apos the Mercos docs use.
	Epoch = "2000-01-01 00:00:00"
)

// Options tune the connector; the zero value is ready for production.
type Options struct {
	// HTTPClient sends requests; nil means a client with a pooled transport.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CacheTTL is how long category lists are trusted (default 10m).
	CacheTTL time.Duration
	// Logger receives lifecycle events; never tokens. Nil discards.
	Logger *slog.Logger
}

// Connector implements platform.Connector, OrderPoller, CustomerPusher and CatalogReader.
type Connector struct {
	secrets platform.Secrets
	opts    Options
	client  *http.Client
	log     *slog.Logger
	sp      *time.Location

	mu    sync.Mutex
	conns map[string]*connState

	calls, throttled atomic.Int64
}

var (
	_ platform.Connector      = (*Connector)(nil)
	_ platform.OrderPoller    = (*Connector)(nil)
	_ platform.OrderPollPacer = (*Connector)(nil)
	_ platform.CustomerPusher = (*Connector)(nil)
	_ platform.CatalogReader  = (*Connector)(nil)
)

// New builds a connector reading credentials from secrets.
func New(secrets platform.Secrets, opts Options) *Connector {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = 10 * time.Minute
	}
	client := platform.HTTPClient(opts.HTTPClient, 16)
	log := platform.Logger(opts.Logger)
	return &Connector{secrets: secrets, opts: opts, client: client, log: log, sp: platform.SaoPaulo(), conns: map[string]*connState{}}
}

// Platform returns "mercos".
func (c *Connector) Platform() string { return Name }

// Stats counts what the connector did since it was built.
type Stats struct {
	HTTPCalls   int64 `json:"http_calls"`
	RateLimited int64 `json:"rate_limited"`
}

// Stats returns the connector's counters.
func (c *Connector) Stats() Stats {
	return Stats{HTTPCalls: c.calls.Load(), RateLimited: c.throttled.Load()}
}

// settings are a connection's parsed Mercos settings.
type settings struct {
	base      string
	perMin    int
	window    time.Duration
	timeout   time.Duration
	batch     int
	pageSize  int // 0: let Mercos choose
	inclusive bool
	since     string
	currency  string
}

func (c *Connector) settings(conn domain.Connection) (settings, error) {
	var s settings
	base := strings.TrimRight(strings.TrimSpace(conn.Setting("base_url", DefaultBaseURL)), "/")
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return s, permanent("config", "connection %s: setting base_url must be an http(s) URL, got %q", conn.ID, base)
	}
	s.base = base
	if s.perMin, err = intSetting(conn, "rate_limit_per_min", DefaultRateLimitPerMin, 1, 1<<30); err != nil {
		return s, err
	}
	ms, err := intSetting(conn, "rate_window_ms", int(DefaultRateWindow/time.Millisecond), 1, 24*3600*1000)
	if err != nil {
		return s, err
	}
	s.window = time.Duration(ms) * time.Millisecond
	if ms, err = intSetting(conn, "timeout_ms", int(DefaultTimeout/time.Millisecond), 1, 10*60*1000); err != nil {
		return s, err
	}
	s.timeout = time.Duration(ms) * time.Millisecond
	if s.batch, err = intSetting(conn, "batch_size", MaxBatch, 1, MaxBatch); err != nil {
		return s, err
	}
	if s.pageSize, err = intSetting(conn, "page_size", 0, 1, 10000); err != nil {
		return s, err
	}
	switch v := strings.ToLower(strings.TrimSpace(conn.Setting("alterado_apos_inclusive", "true"))); v {
	case "true", "1", "yes":
		s.inclusive = true
	case "false", "0", "no":
	default:
		return s, permanent("config", "connection %s: setting alterado_apos_inclusive must be true or false, got %q", conn.ID, v)
	}
	// Orders start at the connection's creation unless orders_since says otherwise: a
	// new connection must not import the account's whole history. Epoch stays only for
	// connections without a creation time (built by hand).
	s.since = Epoch
	if !conn.CreatedAt.IsZero() {
		s.since = conn.CreatedAt.In(c.sp).Format(time.DateTime)
	}
	if v := strings.TrimSpace(conn.Setting("orders_since", "")); v != "" {
		t, err := parseMercosTime(v, c.sp)
		if err != nil {
			return s, permanent("config", "connection %s: setting orders_since must be YYYY-MM-DD HH:MM:SS (Brazil time), got %q", conn.ID, v)
		}
		s.since = t.In(c.sp).Format(time.DateTime)
	}
	s.currency = strings.ToUpper(conn.Currency)
	if s.currency == "" {
		s.currency = "BRL"
	}
	return s, nil
}

// intSetting parses an integer setting in [lo, hi]; unset gives def.
func intSetting(conn domain.Connection, name string, def, lo, hi int) (int, error) {
	v := strings.TrimSpace(conn.Setting(name, ""))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, permanent("config", "connection %s: setting %s must be an integer from %d to %d, got %q", conn.ID, name, lo, hi, v)
	}
	return n, nil
}

// connState is what the connector keeps per connection.
type connState struct {
	gate atomic.Pointer[gate]

	credMu sync.Mutex
	app    string
	comp   string

	catMu  sync.Mutex
	cats   map[string]int64 // lower-cased name -> id
	catsAt time.Time

	// Lookups for order normalisation, filled incrementally from the lists.
	custMu     sync.Mutex
	customers  map[int64]clienteJSON
	custCursor string
	prodMu     sync.Mutex
	products   map[int64]productRef
	prodCursor string

	// totals remembers the total of each order read (poll or fetch): an invoice write
	// needs valor_faturado, and GET /v2/pedidos/{id} is blocked in production.
	totalsMu sync.Mutex
	totals   map[int64]decimal.Decimal
}

// maxRememberedTotals bounds the totals memory (a few MB at most).
const maxRememberedTotals = 100_000

func (st *connState) rememberTotal(id int64, total decimal.Decimal) {
	st.totalsMu.Lock()
	defer st.totalsMu.Unlock()
	if st.totals == nil {
		st.totals = map[int64]decimal.Decimal{}
	}
	if _, ok := st.totals[id]; !ok && len(st.totals) >= maxRememberedTotals {
		for k := range st.totals { // drop an arbitrary one: a miss only costs a fetch
			delete(st.totals, k)
			break
		}
	}
	st.totals[id] = total
}

func (st *connState) total(id int64) (decimal.Decimal, bool) {
	st.totalsMu.Lock()
	defer st.totalsMu.Unlock()
	t, ok := st.totals[id]
	return t, ok
}

func (c *Connector) state(conn domain.Connection, s settings) *connState {
	key := conn.ID + "|" + s.base
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.conns[key]
	if !ok {
		st = &connState{}
		c.conns[key] = st
	}
	interval := s.window / time.Duration(s.perMin)
	if g := st.gate.Load(); g == nil || g.interval != interval {
		st.gate.Store(newGate(interval))
	}
	return st
}

func permanent(op, format string, args ...any) *platform.Error {
	return &platform.Error{Platform: Name, Op: op, Kind: platform.Permanent, Message: fmt.Sprintf(format, args...)}
}

func transient(op, format string, args ...any) *platform.Error {
	return &platform.Error{Platform: Name, Op: op, Kind: platform.Transient, Message: fmt.Sprintf(format, args...)}
}

// parseMercosTime reads "2024-04-10 15:45:00" or "2024-04-10T15:45:00" in Brazil time.
func parseMercosTime(v string, sp *time.Location) (time.Time, error) {
	v = strings.Replace(strings.TrimSpace(v), "T", " ", 1)
	if len(v) == 10 {
		v += " 00:00:00"
	}
	return time.ParseInLocation(time.DateTime, v, sp)
}
