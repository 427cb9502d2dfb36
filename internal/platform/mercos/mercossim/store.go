package mercossim

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// FaultKind is a failure the simulator can inject.
type FaultKind int

const (
	// FaultServerError answers 500.
	FaultServerError FaultKind = iota + 1
	// FaultRateLimit answers 429 with tempo_ate_permitir_novamente = Fault.RetryAfter.
	FaultRateLimit
	// FaultHang waits Fault.Delay (or until the client gives up), then serves normally.
	FaultHang
	// FaultMalformed answers 200 with a body that is not JSON.
	FaultMalformed
	// FaultTruncated answers 200 and cuts the body short.
	FaultTruncated
	// FaultUnauthorized answers 401 as if the tokens were revoked.
	FaultUnauthorized
)

// Fault applies to the next Count admitted requests of a store.
type Fault struct {
	Kind       FaultKind
	Count      int
	RetryAfter time.Duration
	Delay      time.Duration
}

// Product is a product or a grid child as the simulator holds it.
type Product struct {
	ID, ParentID int64
	Codigo, Nome string
	Observacoes  string
	Price        decimal.Decimal
	Stock        *decimal.Decimal // nil: null (never set)
	Ativo        bool
	Excluido     bool
	CategoriaID  int64
	Children     []int64
	Variation    map[string]string
	Alterado     time.Time
}

// CallStats are a store's request counters.
type CallStats struct {
	Total       int64
	Writes      int64 // requests writing stock, price or product data (a batch counts once)
	RateLimited int64 // 429s from the limits (injected ones count as Faults)
	Faults      int64
	ByEndpoint  map[string]int64
}

type store struct {
	id  string
	cfg StoreConfig

	mu        sync.Mutex
	inflight  int
	ring      []time.Time
	pos       int
	faults    []Fault
	total     int64
	writes    int64
	throttled int64
	faulted   int64
	calls     map[string]int64

	data       sync.Mutex
	seq        int64
	products   map[int64]*Product
	categories map[int64]*record
	customers  map[int64]*record
	orders     map[int64]*record
	invoices   []Invoice
	statuses   map[int64]string // custom order statuses (/v1/pedidos/status)
	history    map[int64][]StatusChange
}

// Invoice is one POST /v1/faturamento the store accepted.
type Invoice struct {
	ID, OrderID int64
	Value       decimal.Decimal
	Date        string // data_faturamento, YYYY-MM-DD
	Number      string // numero_nf
	Info        string // informacoes_adicionais
}

// StatusChange is one POST /v1/pedidos/{id}/status the store accepted.
type StatusChange struct {
	ID, StatusID int64
	Name, Note   string
	At           time.Time
}

// record is a client, category or order kept as JSON fields.
type record struct {
	id       int64
	fields   map[string]any
	alterado time.Time
}

func newStore(id string, cfg StoreConfig) *store {
	return &store{id: id, cfg: cfg, ring: make([]time.Time, cfg.RateLimitPerMin), calls: map[string]int64{},
		seq: 1000, products: map[int64]*Product{}, categories: map[int64]*record{},
		customers: map[int64]*record{}, orders: map[int64]*record{},
		statuses: map[int64]string{}, history: map[int64][]StatusChange{}}
}

type verdict struct {
	reply *out
	fault *Fault
}

// admit counts a request, checks the application token, the one-at-a-time rule and the
// rolling window, and takes the next injected fault; admitted requests hold the
// in-flight slot until done.
func (st *store) admit(endpoint, appToken string, now time.Time, window time.Duration, serial bool) verdict {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.total++
	st.calls[endpoint]++
	if appToken != st.cfg.ApplicationToken {
		o := unauthorized()
		return verdict{reply: &o}
	}
	if serial && st.inflight > 0 {
		st.throttled++
		o := throttled(time.Second)
		return verdict{reply: &o}
	}
	if oldest := st.ring[st.pos]; !oldest.IsZero() && oldest.After(now.Add(-window)) {
		st.throttled++
		o := throttled(oldest.Add(window).Sub(now))
		return verdict{reply: &o}
	}
	st.ring[st.pos] = now
	st.pos = (st.pos + 1) % len(st.ring)
	st.inflight++
	if writeEndpoints[endpoint] {
		st.writes++
	}
	if len(st.faults) > 0 {
		f := st.faults[0]
		if st.faults[0].Count--; st.faults[0].Count <= 0 {
			st.faults = st.faults[1:]
		}
		st.faulted++
		return verdict{fault: &f}
	}
	return verdict{}
}

func (st *store) done() {
	st.mu.Lock()
	st.inflight--
	st.mu.Unlock()
}

// InjectFault queues a fault for a store; faults run in the order injected.
func (s *Server) InjectFault(storeID string, f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	if st := s.store(storeID); st != nil {
		st.mu.Lock()
		st.faults = append(st.faults, f)
		st.mu.Unlock()
	}
}

// applyFault returns the fault's answer; false means carry on serving normally.
func applyFault(r *http.Request, f *Fault, st *store) (out, bool) {
	switch f.Kind {
	case FaultServerError:
		st.done()
		return out{status: http.StatusInternalServerError, body: []byte(`{"mensagem":"Erro interno"}`)}, true
	case FaultRateLimit:
		st.done()
		return throttled(f.RetryAfter), true
	case FaultUnauthorized:
		st.done()
		return unauthorized(), true
	case FaultMalformed:
		st.done()
		return out{status: http.StatusOK, body: []byte("<html><body>502 Bad Gateway</body></html>")}, true
	case FaultTruncated:
		st.done()
		return out{status: http.StatusOK, header: map[string]string{"Content-Length": "512"}, body: []byte(`[{"produto_id":1,"novo_sal`)}, true
	case FaultHang:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
			return out{}, false
		case <-r.Context().Done():
			st.done()
			return out{status: http.StatusGatewayTimeout}, true
		}
	}
	return out{}, false
}

// Calls returns a store's request counters.
func (s *Server) Calls(storeID string) CallStats {
	st := s.store(storeID)
	if st == nil {
		return CallStats{}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	c := CallStats{Total: st.total, Writes: st.writes, RateLimited: st.throttled, Faults: st.faulted, ByEndpoint: map[string]int64{}}
	for k, v := range st.calls {
		c.ByEndpoint[k] = v
	}
	return c
}

// AddProduct adds a simple product and returns its id.
func (s *Server) AddProduct(storeID, codigo, nome string, stock int64, price decimal.Decimal) int64 {
	st := s.store(storeID)
	if st == nil {
		return 0
	}
	st.data.Lock()
	defer st.data.Unlock()
	st.seq++
	d := decimal.NewFromInt(stock)
	p := &Product{ID: st.seq, Codigo: codigo, Nome: nome, Price: price, Stock: &d, Ativo: true, Alterado: s.opts.Now()}
	st.products[p.ID] = p
	return p.ID
}

// AddGridProduct adds a grid parent with one child per variation name and returns the
// parent id and the children's ids.
func (s *Server) AddGridProduct(storeID, codigo, nome string, price decimal.Decimal, variations []string) (int64, []int64) {
	st := s.store(storeID)
	if st == nil {
		return 0, nil
	}
	st.data.Lock()
	defer st.data.Unlock()
	now := s.opts.Now()
	st.seq++
	parent := &Product{ID: st.seq, Codigo: codigo, Nome: nome, Price: price, Ativo: true, Alterado: now}
	st.products[parent.ID] = parent
	var ids []int64
	for _, v := range variations {
		st.seq++
		zero := decimal.Zero
		child := &Product{ID: st.seq, ParentID: parent.ID, Codigo: codigo + "-" + v, Nome: nome, Price: price,
			Stock: &zero, Ativo: true, Variation: map[string]string{"tamanho": v}, Alterado: now}
		st.products[child.ID] = child
		parent.Children = append(parent.Children, child.ID)
		ids = append(ids, child.ID)
	}
	return parent.ID, ids
}

// Product returns a copy of a product or grid child.
func (s *Server) Product(storeID string, id int64) (Product, bool) {
	st := s.store(storeID)
	if st == nil {
		return Product{}, false
	}
	st.data.Lock()
	defer st.data.Unlock()
	p, ok := st.products[id]
	if !ok {
		return Product{}, false
	}
	return *p, true
}

// Touch sets a product's change time (tests build same-second pages with it).
func (s *Server) Touch(storeID string, id int64, at time.Time) {
	if st := s.store(storeID); st != nil {
		st.data.Lock()
		if p, ok := st.products[id]; ok {
			p.Alterado = at
		}
		st.data.Unlock()
	}
}

// DeleteProduct marks a product excluded (soft delete, as Mercos does).
func (s *Server) DeleteProduct(storeID string, id int64) {
	if st := s.store(storeID); st != nil {
		st.data.Lock()
		if p, ok := st.products[id]; ok {
			p.Excluido, p.Alterado = true, s.opts.Now()
		}
		st.data.Unlock()
	}
}

// AddOrder stores an order given as Mercos JSON fields (its "id" and, when present,
// "ultima_alteracao" are kept; otherwise they are assigned).
func (s *Server) AddOrder(storeID string, fields map[string]any) int64 {
	return s.addRecord(storeID, fields, func(st *store) map[int64]*record { return st.orders })
}

// AddCustomer stores a client given as Mercos JSON fields.
func (s *Server) AddCustomer(storeID string, fields map[string]any) int64 {
	return s.addRecord(storeID, fields, func(st *store) map[int64]*record { return st.customers })
}

func (s *Server) addRecord(storeID string, fields map[string]any, pick func(*store) map[int64]*record) int64 {
	st := s.store(storeID)
	if st == nil {
		return 0
	}
	st.data.Lock()
	defer st.data.Unlock()
	var id int64
	switch v := fields["id"].(type) {
	case float64:
		id = int64(v)
	case int:
		id = int64(v)
	case int64:
		id = v
	}
	if id <= 0 {
		st.seq++
		id = st.seq
	}
	fields["id"] = id
	at := s.opts.Now()
	if v, ok := fields["ultima_alteracao"].(string); ok {
		if t, ok := s.parseAfter(v); ok {
			at = t
		}
	}
	pick(st)[id] = &record{id: id, fields: fields, alterado: at}
	return id
}

// Customer returns a client's fields.
func (s *Server) Customer(storeID string, id int64) (map[string]any, bool) {
	st := s.store(storeID)
	if st == nil {
		return nil, false
	}
	st.data.Lock()
	defer st.data.Unlock()
	r, ok := st.customers[id]
	if !ok {
		return nil, false
	}
	return r.fields, true
}

// Order returns an order's fields.
func (s *Server) Order(storeID string, id int64) (map[string]any, bool) {
	st := s.store(storeID)
	if st == nil {
		return nil, false
	}
	st.data.Lock()
	defer st.data.Unlock()
	r, ok := st.orders[id]
	if !ok {
		return nil, false
	}
	return r.fields, true
}

// AddStatus registers a custom order status (as the account's settings would) and
// returns its id, for POST /v1/pedidos/{id}/status.
func (s *Server) AddStatus(storeID, name string) int64 {
	st := s.store(storeID)
	if st == nil {
		return 0
	}
	st.data.Lock()
	defer st.data.Unlock()
	st.seq++
	st.statuses[st.seq] = name
	return st.seq
}

// Invoices returns the invoices (faturamentos) posted for an order.
func (s *Server) Invoices(storeID string, orderID int64) []Invoice {
	st := s.store(storeID)
	if st == nil {
		return nil
	}
	st.data.Lock()
	defer st.data.Unlock()
	var out []Invoice
	for _, i := range st.invoices {
		if i.OrderID == orderID {
			out = append(out, i)
		}
	}
	return out
}

// StatusHistory returns the custom statuses set on an order, oldest first.
func (s *Server) StatusHistory(storeID string, orderID int64) []StatusChange {
	st := s.store(storeID)
	if st == nil {
		return nil
	}
	st.data.Lock()
	defer st.data.Unlock()
	return append([]StatusChange(nil), st.history[orderID]...)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
