// Package metrics is a small registry of counters, gauges and histograms with two
// outputs: the Prometheus text exposition format (GET /metrics on `ponte serve`) and
// CloudWatch Embedded Metric Format log lines (flushed at the end of each Lambda
// invocation). It exists so the hub needs no metrics module dependency.
package metrics

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

type kind int

const (
	counterKind kind = iota
	gaugeKind
	histogramKind
)

func (k kind) String() string {
	return [...]string{"counter", "gauge", "histogram"}[k]
}

// maxPending bounds the histogram observations kept for the next EMF flush, so a
// registry that is never flushed (the local server) stays small.
const maxPending = 1000

// Registry holds metric families. The zero value is not usable: call NewRegistry.
type Registry struct {
	mu         sync.Mutex
	families   map[string]*family
	collectors []func(ctx context.Context)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{families: map[string]*family{}}
}

type family struct {
	name, help string
	kind       kind
	labels     []string
	buckets    []float64 // upper bounds, ascending, without +Inf
	series     map[string]*series
}

type series struct {
	values []string
	value  float64 // counter or gauge
	// emitted is the counter value at the last EMF flush (EMF takes deltas).
	emitted float64
	// touched says a gauge was set since the last EMF flush.
	touched bool
	counts  []uint64 // histogram: per bucket, not cumulative; last is +Inf
	count   uint64
	sum     float64
	pending []float64 // histogram observations since the last EMF flush
}

var nameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
var labelRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// register returns the family with that name, creating it. Registering the same name
// twice with the same shape returns the same family; a different shape is a programming
// error and panics, like a bad name.
func (r *Registry) register(name, help string, k kind, buckets []float64, labels []string) *family {
	if !nameRE.MatchString(name) {
		panic(fmt.Sprintf("metrics: invalid metric name %q", name))
	}
	for _, l := range labels {
		if !labelRE.MatchString(l) || strings.HasPrefix(l, "__") || l == "le" {
			panic(fmt.Sprintf("metrics: invalid label name %q on %s", l, name))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if f, ok := r.families[name]; ok {
		if f.kind != k || !slices.Equal(f.labels, labels) || !slices.Equal(f.buckets, buckets) {
			panic(fmt.Sprintf("metrics: %s registered twice with different shapes", name))
		}
		return f
	}
	f := &family{name: name, help: help, kind: k, labels: slices.Clone(labels), buckets: slices.Clone(buckets),
		series: map[string]*series{}}
	r.families[name] = f
	return f
}

// at returns the series for label values; the caller holds r.mu.
func (f *family) at(values []string) *series {
	if len(values) != len(f.labels) {
		panic(fmt.Sprintf("metrics: %s takes %d label values, got %d", f.name, len(f.labels), len(values)))
	}
	key := strings.Join(values, "\xff")
	s, ok := f.series[key]
	if !ok {
		s = &series{values: slices.Clone(values)}
		if f.kind == histogramKind {
			s.counts = make([]uint64, len(f.buckets)+1)
		}
		f.series[key] = s
	}
	return s
}

// OnScrape adds a function run before every Prometheus exposition, to set gauges read
// on demand (queue depths). EMF flushes do not run it: on Lambda the queues' own
// CloudWatch metrics already say the same.
func (r *Registry) OnScrape(f func(ctx context.Context)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collectors = append(r.collectors, f)
}

func (r *Registry) collect(ctx context.Context) {
	r.mu.Lock()
	cs := slices.Clone(r.collectors)
	r.mu.Unlock()
	for _, c := range cs {
		c(ctx)
	}
}

// sorted returns the families by name; the caller holds r.mu.
func (r *Registry) sorted() []*family {
	fs := make([]*family, 0, len(r.families))
	for _, f := range r.families {
		fs = append(fs, f)
	}
	slices.SortFunc(fs, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	return fs
}

// sortedSeries returns a family's series by label values; the caller holds r.mu.
func (f *family) sortedSeries() []*series {
	ss := make([]*series, 0, len(f.series))
	for _, s := range f.series {
		ss = append(ss, s)
	}
	slices.SortFunc(ss, func(a, b *series) int { return slices.Compare(a.values, b.values) })
	return ss
}

// Counter only goes up.
type Counter struct {
	r *Registry
	f *family
}

// Counter registers (or finds) a counter; by convention its name ends in _total.
func (r *Registry) Counter(name, help string, labels ...string) *Counter {
	return &Counter{r: r, f: r.register(name, help, counterKind, nil, labels)}
}

// Inc adds one.
func (c *Counter) Inc(labelValues ...string) { c.Add(1, labelValues...) }

// Add adds v; negative values are ignored (a counter never goes down).
func (c *Counter) Add(v float64, labelValues ...string) {
	if v < 0 {
		return
	}
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	c.f.at(labelValues).value += v
}

// Gauge is a value that goes up and down.
type Gauge struct {
	r *Registry
	f *family
}

// Gauge registers (or finds) a gauge.
func (r *Registry) Gauge(name, help string, labels ...string) *Gauge {
	return &Gauge{r: r, f: r.register(name, help, gaugeKind, nil, labels)}
}

// Set sets the gauge.
func (g *Gauge) Set(v float64, labelValues ...string) {
	g.r.mu.Lock()
	defer g.r.mu.Unlock()
	s := g.f.at(labelValues)
	s.value, s.touched = v, true
}

// Histogram counts observations in buckets.
type Histogram struct {
	r *Registry
	f *family
}

// Histogram registers (or finds) a histogram with ascending bucket upper bounds (+Inf
// is implied).
func (r *Registry) Histogram(name, help string, buckets []float64, labels ...string) *Histogram {
	if !slices.IsSorted(buckets) || len(buckets) == 0 {
		panic(fmt.Sprintf("metrics: %s needs ascending buckets", name))
	}
	return &Histogram{r: r, f: r.register(name, help, histogramKind, buckets, labels)}
}

// Observe records one value.
func (h *Histogram) Observe(v float64, labelValues ...string) {
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	s := h.f.at(labelValues)
	i, _ := slices.BinarySearch(h.f.buckets, v) // first bound >= v: le is inclusive
	s.counts[i]++
	s.count++
	s.sum += v
	if len(s.pending) < maxPending {
		s.pending = append(s.pending, v)
	}
}
