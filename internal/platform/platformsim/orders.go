package platformsim

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// SimOrder is a sale to create on a simulated store.
type SimOrder struct {
	// ID is the platform order id to use ("" lets the simulator pick).
	ID string
	// Status is the platform status ("" = the platform's usual paid/new status).
	Status   string
	Lines    []SimOrderLine
	Customer SimCustomer
	// UpdatedAt is when the order last changed (zero = now).
	UpdatedAt time.Time
}

// SimOrderLine is one line of a SimOrder.
type SimOrderLine struct {
	Product   Product
	SKU       string
	Quantity  int64
	UnitPrice decimal.Decimal
}

// SimCustomer is the buyer, whose address is also the shipping address.
type SimCustomer struct {
	Name, Email, Document, Phone            string
	Street, Number, City, State, PostalCode string
}

// Delivery is what the platform sends the hub's webhook URL for an order event.
type Delivery struct {
	Header http.Header
	Query  url.Values
	Body   []byte
}

// IsZero reports a platform that sent nothing (the hub polls instead).
func (d Delivery) IsZero() bool { return d.Header == nil && d.Query == nil && d.Body == nil }

// OrderPlacer is implemented by every simulator kit.
type OrderPlacer interface {
	// PlaceOrder creates (or, same ID, updates status/lines of) an order, decrements the
	// store's stock for its lines like the real platform does, and returns the platform
	// order id and the webhook delivery the platform would send for it (signed, or carrying
	// its documented substitute, as the connector's VerifyWebhook expects for the store's
	// credentials). Platforms with no order webhook (Mercos) return a zero Delivery.
	PlaceOrder(store string, o SimOrder) (id string, d Delivery, err error)
	// OrderStatus is the order's platform status as the store shows it now (after the
	// hub's write-backs).
	OrderStatus(store, id string) (string, bool)
}

// Normalise fills a SimOrder's defaults (UpdatedAt now, in UTC; Status the platform's
// defaultStatus) and checks its lines and, on platforms whose order ids are numbers
// (numericID), its ID.
func (o SimOrder) Normalise(now time.Time, defaultStatus string, numericID bool) (SimOrder, error) {
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = now
	}
	o.UpdatedAt = o.UpdatedAt.UTC()
	if o.Status == "" {
		o.Status = defaultStatus
	}
	if numericID && o.ID != "" {
		if n, err := strconv.ParseInt(o.ID, 10, 64); err != nil || n <= 0 {
			return o, fmt.Errorf("order id %q is not a positive number", o.ID)
		}
	}
	if len(o.Lines) == 0 {
		return o, fmt.Errorf("order %q has no lines", o.ID)
	}
	for i, l := range o.Lines {
		if l.Quantity <= 0 {
			return o, fmt.Errorf("order %q line %d: quantity %d is not positive", o.ID, i, l.Quantity)
		}
		if l.Product.ProductID == "" {
			return o, fmt.Errorf("order %q line %d: no product id", o.ID, i)
		}
	}
	return o, nil
}

// StockDelta is how much each product's stock changes when an order's lines go from prev
// to next: a re-placed order only moves stock by the difference, as a platform that
// edits an order's items does.
func StockDelta(prev, next []SimOrderLine) map[Product]int64 {
	d := map[Product]int64{}
	for _, l := range prev {
		d[l.Product] += l.Quantity
	}
	for _, l := range next {
		d[l.Product] -= l.Quantity
	}
	for p, n := range d {
		if n == 0 {
			delete(d, p)
		}
	}
	return d
}

// OrderBook remembers the lines each placed order holds, so a kit re-placing an order moves
// stock only by the difference, and hands out order ids when the caller gives none.
type OrderBook struct {
	mu    sync.Mutex
	lines map[string][]SimOrderLine // store + "\x00" + id
	next  map[string]int
}

// Place records o's lines under its id (picking one from first+n when o.ID is "") and
// returns the id, the stock change per product and whether the order already existed.
func (b *OrderBook) Place(store string, o SimOrder, first int) (id string, delta map[Product]int64, existed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lines == nil {
		b.lines, b.next = map[string][]SimOrderLine{}, map[string]int{}
	}
	id = o.ID
	if id == "" {
		b.next[store]++
		id = strconv.Itoa(first + b.next[store])
	}
	key := store + "\x00" + id
	prev, existed := b.lines[key]
	b.lines[key] = append([]SimOrderLine(nil), o.Lines...)
	return id, StockDelta(prev, o.Lines), existed
}
