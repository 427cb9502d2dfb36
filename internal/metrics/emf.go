package metrics

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// emfMaxValues is the most values one EMF metric may carry in a line.
const emfMaxValues = 100

// FlushEMF writes what changed since the last flush as CloudWatch Embedded Metric
// Format lines, one JSON object per line and per label set: counter increments (not
// totals: CloudWatch sums them), gauges set since, and histogram observations as value
// arrays (split over several lines past 100). Label names become the dimensions. A
// Lambda calls it at the end of each invocation; stdout goes to CloudWatch Logs.
func (r *Registry) FlushEMF(w io.Writer, namespace string, now time.Time) error {
	if r == nil {
		return nil
	}
	type group struct {
		labels, values []string
		docs           []map[string]any
	}
	groups := map[string]*group{}
	r.mu.Lock()
	for _, f := range r.sorted() {
		unit := "Count"
		if strings.HasSuffix(f.name, "_seconds") {
			unit = "Seconds"
		}
		for _, s := range f.sortedSeries() {
			var chunks []any
			switch f.kind {
			case counterKind:
				if d := s.value - s.emitted; d > 0 {
					chunks, s.emitted = []any{d}, s.value
				}
			case gaugeKind:
				if s.touched {
					chunks, s.touched = []any{s.value}, false
				}
			case histogramKind:
				for v := range slices.Chunk(s.pending, emfMaxValues) {
					chunks = append(chunks, v)
				}
				s.pending = nil
			}
			if len(chunks) == 0 {
				continue
			}
			key := strings.Join(f.labels, "\xff") + "\xfe" + strings.Join(s.values, "\xff")
			g, ok := groups[key]
			if !ok {
				g = &group{labels: f.labels, values: s.values}
				groups[key] = g
			}
			for i, c := range chunks {
				if i == len(g.docs) {
					g.docs = append(g.docs, newEMFDoc(namespace, now, g.labels, g.values))
				}
				addEMFMetric(g.docs[i], f.name, unit, c)
			}
		}
	}
	r.mu.Unlock()
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, doc := range groups[k].docs {
			line, err := json.Marshal(doc)
			if err != nil {
				return fmt.Errorf("encode EMF line: %w", err)
			}
			if _, err := w.Write(append(line, '\n')); err != nil {
				return fmt.Errorf("write EMF line: %w", err)
			}
		}
	}
	return nil
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64           `json:"Timestamp"`
	CloudWatchMetrics []*emfDirective `json:"CloudWatchMetrics"`
}

func newEMFDoc(namespace string, now time.Time, labels, values []string) map[string]any {
	doc := map[string]any{"_aws": &emfMeta{Timestamp: now.UnixMilli(), CloudWatchMetrics: []*emfDirective{{
		Namespace: namespace, Dimensions: [][]string{append([]string{}, labels...)}, Metrics: []emfMetric{}}}}}
	for i, l := range labels {
		doc[l] = values[i]
	}
	return doc
}

func addEMFMetric(doc map[string]any, name, unit string, value any) {
	d := doc["_aws"].(*emfMeta).CloudWatchMetrics[0]
	d.Metrics = append(d.Metrics, emfMetric{Name: name, Unit: unit})
	doc[name] = value
}
