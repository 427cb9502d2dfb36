package ingest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/queue"
	storesqlite "github.com/ponte-hub/ponte/internal/store/sqlite"
)

type recordingSender struct{ msgs []queue.OutMessage }

func (r *recordingSender) Send(_ context.Context, msgs ...queue.OutMessage) error {
	r.msgs = append(r.msgs, msgs...)
	return nil
}

func decodeOrFail(t *testing.T, body string) []Change {
	t.Helper()
	changes, rejs, err := Decode([]byte(body), "BRL")
	if err != nil || len(rejs) > 0 {
		t.Fatalf("decode: %v %+v", err, rejs)
	}
	return changes
}

func TestApplyVersionRules(t *testing.T) {
	ctx := context.Background()
	st, err := storesqlite.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sender := &recordingSender{}
	svc := &Service{Store: st, Changes: sender, Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }}

	steps := []struct {
		name                          string
		body                          string
		accepted, duplicates, rejects int
		rejectField                   string
		wantQueued                    int
	}{
		{"stock before product is an unknown SKU", `{"changes":[{"type":"stock","sku":"A","version":1,"quantity":1}]}`, 0, 0, 1, "sku", 0},
		{"product then stock in one batch", `{"changes":[{"type":"product","sku":"A","version":1,"name":"a"},{"type":"stock","sku":"A","version":5,"quantity":5},{"type":"stock","sku":"B","version":1,"quantity":1}]}`, 2, 0, 1, "sku", 1},
		{"older stock version is rejected", `{"changes":[{"type":"stock","sku":"A","version":4,"quantity":4}]}`, 0, 0, 1, "version", 0},
		{"same version is a duplicate and re-queues", `{"changes":[{"type":"stock","sku":"A","version":5,"quantity":5}]}`, 1, 1, 0, "", 1},
		{"newer version in another warehouse", `{"changes":[{"type":"stock","sku":"A","version":2,"warehouse":"rj","quantity":2}]}`, 1, 0, 0, "", 1},
		{"out of order within a batch keeps the newest", `{"changes":[{"type":"price","sku":"A","version":9,"price":"9"},{"type":"price","sku":"A","version":7,"price":"7"}]}`, 1, 0, 1, "version", 1},
	}
	for _, s := range steps {
		before := len(sender.msgs)
		res, err := svc.Apply(ctx, "t1", decodeOrFail(t, s.body))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if res.Accepted != s.accepted || res.Duplicates != s.duplicates || len(res.Rejected) != s.rejects {
			t.Fatalf("%s: got %+v", s.name, res)
		}
		if s.rejects > 0 && res.Rejected[0].Field != s.rejectField {
			t.Fatalf("%s: rejected field %q, want %q", s.name, res.Rejected[0].Field, s.rejectField)
		}
		if got := len(sender.msgs) - before; got != s.wantQueued {
			t.Fatalf("%s: queued %d fan-out messages, want %d", s.name, got, s.wantQueued)
		}
	}
	states, err := st.GetSKUs(ctx, "t1", []string{"A"})
	if err != nil {
		t.Fatal(err)
	}
	a := states["A"]
	if a.Stock["default"].Quantity != 5 || a.Stock["rj"].Quantity != 2 || a.Price.Price.Amount.String() != "9" {
		t.Fatalf("final state %+v", a)
	}
	if other, _ := st.GetSKUs(ctx, "t2", []string{"A"}); len(other) != 0 {
		t.Fatalf("tenant t2 sees t1's SKU: %+v", other)
	}
}
