package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/queue"
)

func TestWritePrometheusGolden(t *testing.T) {
	r := NewRegistry()
	c := r.Counter("ponte_test_total", "Things counted.\nSecond line with a \\ backslash.", "platform", "connection")
	c.Inc("tray", "store-1")
	c.Add(2, "tray", "store-1")
	c.Inc("shopify", `we"ird\con`+"\n"+`nection`)
	c.Add(-5, "tray", "store-1") // ignored: counters never go down
	g := r.Gauge("ponte_test_gauge", "A gauge.", "queue")
	g.Set(4, "push-tray")
	g.Set(-1.5, "changes")
	r.Gauge("ponte_test_unused", "Never set: not exposed.")
	h := r.Histogram("ponte_test_seconds", "A histogram.", []float64{0.1, 1}, "platform")
	for _, v := range []float64{0.05, 0.1, 0.5, 3} {
		h.Observe(v, "tray")
	}
	var plain *Counter = r.Counter("ponte_plain_total", "No labels.")
	plain.Inc()
	if again := r.Counter("ponte_test_total", "Things counted.", "platform", "connection"); again.f != c.f {
		t.Error("registering the same counter twice made two families")
	}

	var buf bytes.Buffer
	if err := r.WritePrometheus(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	want := `# HELP ponte_plain_total No labels.
# TYPE ponte_plain_total counter
ponte_plain_total 1
# HELP ponte_test_gauge A gauge.
# TYPE ponte_test_gauge gauge
ponte_test_gauge{queue="changes"} -1.5
ponte_test_gauge{queue="push-tray"} 4
# HELP ponte_test_seconds A histogram.
# TYPE ponte_test_seconds histogram
ponte_test_seconds_bucket{platform="tray",le="0.1"} 2
ponte_test_seconds_bucket{platform="tray",le="1"} 3
ponte_test_seconds_bucket{platform="tray",le="+Inf"} 4
ponte_test_seconds_sum{platform="tray"} 3.65
ponte_test_seconds_count{platform="tray"} 4
# HELP ponte_test_total Things counted.\nSecond line with a \\ backslash.
# TYPE ponte_test_total counter
ponte_test_total{platform="shopify",connection="we\"ird\\con\nnection"} 1
ponte_test_total{platform="tray",connection="store-1"} 3
`
	if got := buf.String(); got != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}
}

func TestRegistryMisuse(t *testing.T) {
	tests := []struct {
		name string
		do   func(r *Registry)
	}{
		{"bad metric name", func(r *Registry) { r.Counter("ponte-bad", "") }},
		{"bad label name", func(r *Registry) { r.Counter("ponte_x_total", "", "le") }},
		{"shape changed", func(r *Registry) { r.Counter("ponte_x_total", ""); r.Gauge("ponte_x_total", "") }},
		{"label count", func(r *Registry) { r.Counter("ponte_x_total", "", "a").Inc("1", "2") }},
		{"unsorted buckets", func(r *Registry) { r.Histogram("ponte_x_seconds", "", []float64{1, 0.5}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.do(NewRegistry())
		})
	}
}

func TestHandler(t *testing.T) {
	r := NewRegistry()
	scrapes := 0
	r.OnScrape(func(context.Context) { scrapes++; r.Gauge("ponte_scrapes", "Scrapes.").Set(float64(scrapes)) })
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ContentType || !strings.Contains(body.String(), "ponte_scrapes 1\n") {
		t.Errorf("GET: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body.String())
	}
	post, err := http.Post(srv.URL, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", post.StatusCode)
	}
}

// emfLine is the shape CloudWatch reads from an EMF log line.
type emfLine struct {
	AWS struct {
		Timestamp         int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct{ Name, Unit string }
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
}

func TestFlushEMF(t *testing.T) {
	r := NewRegistry()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	calls := r.Counter("ponte_push_calls_total", "", "platform", "connection")
	fails := r.Counter("ponte_push_failures_total", "", "platform", "connection")
	lat := r.Histogram("ponte_push_latency_seconds", "", LatencyBuckets, "platform")
	plain := r.Counter("ponte_plain_total", "")
	calls.Add(3, "tray", "s1")
	fails.Inc("tray", "s1")
	plain.Inc()
	for i := range 150 {
		lat.Observe(float64(i)/100, "tray")
	}

	var buf bytes.Buffer
	if err := r.FlushEMF(&buf, "Ponte", now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	// In a stable order: {platform} twice (150 latencies over two lines),
	// {platform, connection}, then no dimensions.
	if len(lines) != 4 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	type want struct {
		dims    []string
		metrics map[string]string // name -> unit
		values  map[string]any
	}
	wants := []want{
		{[]string{"platform"}, map[string]string{"ponte_push_latency_seconds": "Seconds"}, map[string]any{"platform": "tray"}},
		{[]string{"platform"}, map[string]string{"ponte_push_latency_seconds": "Seconds"}, map[string]any{"platform": "tray"}},
		{[]string{"platform", "connection"}, map[string]string{"ponte_push_calls_total": "Count", "ponte_push_failures_total": "Count"},
			map[string]any{"ponte_push_calls_total": 3.0, "ponte_push_failures_total": 1.0, "platform": "tray", "connection": "s1"}},
		{[]string{}, map[string]string{"ponte_plain_total": "Count"}, map[string]any{"ponte_plain_total": 1.0}},
	}
	latencies := 0
	for i, line := range lines {
		var shape emfLine
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &shape); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		_ = json.Unmarshal([]byte(line), &doc)
		w := wants[i]
		if shape.AWS.Timestamp != now.UnixMilli() || len(shape.AWS.CloudWatchMetrics) != 1 {
			t.Fatalf("line %d envelope: %s", i, line)
		}
		d := shape.AWS.CloudWatchMetrics[0]
		if d.Namespace != "Ponte" || len(d.Dimensions) != 1 || strings.Join(d.Dimensions[0], ",") != strings.Join(w.dims, ",") || d.Dimensions[0] == nil {
			t.Errorf("line %d directive: %s", i, line)
		}
		if len(d.Metrics) != len(w.metrics) {
			t.Errorf("line %d metrics: %s", i, line)
		}
		for _, m := range d.Metrics {
			if w.metrics[m.Name] != m.Unit || doc[m.Name] == nil {
				t.Errorf("line %d metric %s %s: %s", i, m.Name, m.Unit, line)
			}
		}
		for k, v := range w.values {
			if doc[k] != v {
				t.Errorf("line %d %s = %v, want %v", i, k, doc[k], v)
			}
		}
		if vs, ok := doc["ponte_push_latency_seconds"].([]any); ok {
			if len(vs) > emfMaxValues {
				t.Errorf("line %d carries %d values", i, len(vs))
			}
			latencies += len(vs)
		}
	}
	if latencies != 150 {
		t.Errorf("%d latency values, want 150", latencies)
	}

	// A second flush carries only what changed: one more call, nothing else.
	calls.Inc("tray", "s1")
	buf.Reset()
	if err := r.FlushEMF(&buf, "Ponte", now); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil || strings.Count(buf.String(), "\n") != 1 || doc["ponte_push_calls_total"] != 1.0 {
		t.Errorf("second flush: %s (%v)", buf.String(), err)
	}
	buf.Reset()
	if err := r.FlushEMF(&buf, "Ponte", now); err != nil || buf.Len() != 0 {
		t.Errorf("idle flush wrote %q (%v)", buf.String(), err)
	}
}

func TestPonte(t *testing.T) {
	r := NewRegistry()
	p := NewPonte(r)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	p.Now = func() time.Time { return now }
	p.PushResult("tray", "s1", now.Add(-300*time.Millisecond), nil)
	p.PushResult("tray", "s1", now, &platform.Error{Kind: platform.RateLimited, StatusCode: 429})
	p.PushResult("tray", "s1", now, &platform.Error{Kind: platform.Permanent, StatusCode: 400})
	p.PushResult("tray", "s1", now, errors.New("connection reset"))
	p.Coalesced("push", "tray")
	p.Webhook("tray", "duplicate")
	p.OrderState("tray", domain.OrderRejected, []domain.OrderRejection{{Code: domain.RejectNoStock}, {Code: "Weird Code!"}})
	p.OrderState("tray", domain.OrderAccepted, nil)
	p.WatchQueues(nil, fakeQueue{name: "push-tray", st: queue.Stats{Waiting: 2, Dead: 1, OldestAge: 1500 * time.Millisecond}},
		fakeQueue{name: "changes", st: queue.Stats{OldestAge: -1}}, nil)
	var nilP *Ponte
	nilP.PushResult("tray", "s1", now, nil) // nil records nothing and does not panic

	var buf bytes.Buffer
	if err := r.WritePrometheus(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`ponte_push_calls_total{platform="tray",connection="s1"} 4`,
		`ponte_push_latency_seconds_bucket{platform="tray",le="0.25"} 0`,
		`ponte_push_latency_seconds_bucket{platform="tray",le="0.5"} 1`,
		`ponte_push_failures_total{platform="tray",connection="s1",kind="rate_limited"} 1`,
		`ponte_push_failures_total{platform="tray",connection="s1",kind="permanent"} 1`,
		`ponte_push_failures_total{platform="tray",connection="s1",kind="transient"} 1`,
		`ponte_push_rate_limited_total{platform="tray"} 1`,
		`ponte_coalesced_total{stage="push",platform="tray"} 1`,
		`ponte_webhooks_total{platform="tray",outcome="duplicate"} 1`,
		`ponte_orders_total{platform="tray",state="rejected"} 1`,
		`ponte_orders_total{platform="tray",state="accepted"} 1`,
		`ponte_order_rejections_total{platform="tray",code="no_stock"} 1`,
		`ponte_order_rejections_total{platform="tray",code="other"} 1`,
		`ponte_queue_waiting{queue="push-tray"} 2`,
		`ponte_queue_dead{queue="push-tray"} 1`,
		`ponte_queue_oldest_age_seconds{queue="push-tray"} 1.5`,
		`ponte_queue_waiting{queue="changes"} 0`,
	} {
		if !strings.Contains(buf.String(), want+"\n") {
			t.Errorf("missing %s in:\n%s", want, buf.String())
		}
	}
	if strings.Contains(buf.String(), `ponte_queue_oldest_age_seconds{queue="changes"}`) {
		t.Error("an unknown oldest age (-1) is exposed")
	}
}

type fakeQueue struct {
	queue.Queue
	name string
	st   queue.Stats
}

func (f fakeQueue) Name() string                               { return f.name }
func (f fakeQueue) Stats(context.Context) (queue.Stats, error) { return f.st, nil }
