package push_test

import (
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/tray/traysim"
)

type pushRecord struct {
	platform, connection, kind string
	latency                    bool
}

type recorder struct {
	results   []pushRecord
	coalesced []string
}

func (r *recorder) PushResult(platformName, connection string, computedAt time.Time, err error) {
	rec := pushRecord{platform: platformName, connection: connection, latency: !computedAt.IsZero()}
	if err != nil {
		rec.kind = platform.AsError(err).Kind.String()
	}
	r.results = append(r.results, rec)
}

func (r *recorder) Coalesced(stage, platformName string) {
	r.coalesced = append(r.coalesced, stage+"/"+platformName)
}

// TestPushMetrics: every platform answer is recorded once with its kind, and a push
// message that finds the store already holding the state counts as coalesced.
func TestPushMetrics(t *testing.T) {
	tests := []struct {
		name          string
		fault         *traysim.Fault
		repeat        bool
		want          []pushRecord
		wantCoalesced int
	}{
		{name: "success", want: []pushRecord{{"tray", "c1", "", true}}},
		{name: "already pushed", repeat: true, want: []pushRecord{{"tray", "c1", "", true}}, wantCoalesced: 1},
		{name: "rate limited", fault: &traysim.Fault{Kind: traysim.FaultRateLimit, RetryAfter: time.Second},
			want: []pushRecord{{"tray", "c1", "rate_limited", true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, domain.Rules{})
			rec := &recorder{}
			f.svc.Metrics = rec
			f.desire(t, "A", 1, 7, "")
			if tt.fault != nil {
				f.sim.InjectFault("s1", *tt.fault)
			}
			f.svc.PushSKUs(f.ctx, "t1", "c1", []string{"A"})
			if tt.repeat {
				f.svc.PushSKUs(f.ctx, "t1", "c1", []string{"A"})
			}
			if len(rec.results) != len(tt.want) {
				t.Fatalf("results %+v, want %+v", rec.results, tt.want)
			}
			for i := range tt.want {
				if rec.results[i] != tt.want[i] {
					t.Errorf("result %d %+v, want %+v", i, rec.results[i], tt.want[i])
				}
			}
			if len(rec.coalesced) != tt.wantCoalesced || (tt.wantCoalesced > 0 && rec.coalesced[0] != "push/tray") {
				t.Errorf("coalesced %v, want %d", rec.coalesced, tt.wantCoalesced)
			}
		})
	}
}
