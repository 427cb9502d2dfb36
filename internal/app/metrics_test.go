package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/ponte-hub/ponte/internal/metrics"
)

// TestWithMetricsFlushesEMFPerInvocation: what an invocation records is written as EMF
// once it returns, failed or not; an invocation that records nothing writes nothing.
func TestWithMetricsFlushesEMFPerInvocation(t *testing.T) {
	tests := []struct {
		name    string
		record  bool
		err     error
		wantEMF bool
	}{
		{name: "records and succeeds", record: true, wantEMF: true},
		{name: "records and fails", record: true, err: errors.New("boom"), wantEMF: true},
		{name: "records nothing", wantEMF: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Hub{Metrics: metrics.NewRegistry(), Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
			calls := h.Metrics.Counter("ponte_test_total", "Test.", "platform")
			var out bytes.Buffer
			f := withMetrics(h, &out, func(_ context.Context, n int) (int, error) {
				if tt.record {
					calls.Inc("tray")
				}
				return n + 1, tt.err
			})
			got, err := f(context.Background(), 1)
			if got != 2 || !errors.Is(err, tt.err) {
				t.Fatalf("wrapper changed the result: %d %v", got, err)
			}
			if !tt.wantEMF {
				if out.Len() != 0 {
					t.Fatalf("wrote %q", out.String())
				}
				return
			}
			var doc map[string]any
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
				t.Fatalf("not one JSON line: %q (%v)", out.String(), err)
			}
			if doc["_aws"] == nil || doc["ponte_test_total"] != 1.0 || doc["platform"] != "tray" {
				t.Errorf("EMF line %s", out.String())
			}
		})
	}
}

func TestWithMetricsNilRegistry(t *testing.T) {
	h := &Hub{Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	var out bytes.Buffer
	if _, err := withMetrics(h, &out, func(context.Context, struct{}) (struct{}, error) { return struct{}{}, nil })(context.Background(), struct{}{}); err != nil || out.Len() != 0 {
		t.Fatalf("nil registry: %v %q", err, out.String())
	}
}
