package metrics

import (
	"bufio"
	"context"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ContentType is the Prometheus text exposition format, version 0.0.4.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// scrapeTimeout bounds the on-scrape collectors (queue stats may call SQS).
const scrapeTimeout = 5 * time.Second

// WritePrometheus runs the on-scrape collectors and writes every family with at least
// one series in the text exposition format, families and series in a stable order.
func (r *Registry) WritePrometheus(ctx context.Context, w io.Writer) error {
	if r == nil {
		return nil
	}
	r.collect(ctx)
	bw := bufio.NewWriter(w)
	r.mu.Lock()
	for _, f := range r.sorted() {
		if len(f.series) == 0 {
			continue
		}
		bw.WriteString("# HELP " + f.name + " " + escapeHelp(f.help) + "\n")
		bw.WriteString("# TYPE " + f.name + " " + f.kind.String() + "\n")
		for _, s := range f.sortedSeries() {
			if f.kind != histogramKind {
				bw.WriteString(f.name + labelText(f.labels, s.values, "", "") + " " + formatFloat(s.value) + "\n")
				continue
			}
			var cum uint64
			for i, c := range s.counts {
				cum += c
				le := math.Inf(1)
				if i < len(f.buckets) {
					le = f.buckets[i]
				}
				bw.WriteString(f.name + "_bucket" + labelText(f.labels, s.values, "le", formatFloat(le)) + " " +
					strconv.FormatUint(cum, 10) + "\n")
			}
			labels := labelText(f.labels, s.values, "", "")
			bw.WriteString(f.name + "_sum" + labels + " " + formatFloat(s.sum) + "\n")
			bw.WriteString(f.name + "_count" + labels + " " + strconv.FormatUint(s.count, 10) + "\n")
		}
	}
	r.mu.Unlock()
	return bw.Flush()
}

// Handler serves the exposition (GET /metrics). It takes no auth: it carries no tenant
// data, only platform, connection and queue names.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		ctx, cancel := context.WithTimeout(req.Context(), scrapeTimeout)
		defer cancel()
		w.Header().Set("Content-Type", ContentType)
		_ = r.WritePrometheus(ctx, w) // a failed write is the scraper gone; nothing to tell it
	})
}

// labelText renders {a="x",b="y"} plus an optional extra pair (le); "" when empty.
func labelText(names, values []string, extraName, extraValue string) string {
	if len(names) == 0 && extraName == "" {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n + `="` + escapeLabel(values[i]) + `"`)
	}
	if extraName != "" {
		if len(names) > 0 {
			b.WriteByte(',')
		}
		b.WriteString(extraName + `="` + extraValue + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

func escapeLabel(s string) string { return labelEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD")) }
func escapeHelp(s string) string  { return helpEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD")) }

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
