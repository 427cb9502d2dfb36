package storetest

import (
	"sort"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/store"
)

func testMappings(t *testing.T, s store.Store) {
	c := ctx(t)
	all := []domain.Mapping{
		mapping("ta", "c1", "SKU-1", "P100", "V1"),
		mapping("ta", "c2", "SKU-1", "9001", ""),
		mapping("ta", "c1", "SKU-2", "P100", "V2"), // same product, other variant
		mapping("ta", "c1", "SKU-3", "P300", ""),
		mapping("tb", "c3", "SKU-1", "P100", "V1"), // tenant B, same SKU and ids on its own connection
	}
	for _, m := range all {
		noErr(t, "put "+m.ConnectionID+"/"+m.SKU, s.PutMapping(c, m))
	}

	t.Run("get", func(t *testing.T) {
		for _, tc := range []struct {
			tenant, conn, sku string
			want              *domain.Mapping
		}{
			{"ta", "c1", "SKU-1", &all[0]},
			{"ta", "c2", "SKU-1", &all[1]},
			{"tb", "c3", "SKU-1", &all[4]},
			{"ta", "c3", "SKU-1", nil}, // tenant A never reaches B's mapping
			{"tb", "c1", "SKU-1", nil},
			{"ta", "c2", "SKU-2", nil},
		} {
			got, err := s.GetMapping(c, tc.tenant, tc.conn, tc.sku)
			if tc.want == nil {
				wantErr(t, tc.tenant+"/"+tc.conn+"/"+tc.sku, err, store.ErrNotFound)
				continue
			}
			noErr(t, "get", err)
			sameJSON(t, "mapping", *tc.want, got)
			wantUTC(t, "mapping created_at", got.CreatedAt)
		}
	})

	t.Run("list per sku across connections", func(t *testing.T) {
		for _, tc := range []struct {
			tenant, sku string
			want        []domain.Mapping
		}{
			{"ta", "SKU-1", []domain.Mapping{all[0], all[1]}},
			{"ta", "SKU-2", []domain.Mapping{all[2]}},
			{"tb", "SKU-1", []domain.Mapping{all[4]}},
			{"tb", "SKU-2", nil},
			{"ta", "SKU-404", nil},
		} {
			got, err := s.ListMappings(c, tc.tenant, tc.sku)
			noErr(t, "list", err)
			sort.Slice(got, func(i, j int) bool { return got[i].ConnectionID < got[j].ConnectionID })
			if len(got) == 0 {
				got = nil
			}
			sameJSON(t, "mappings of "+tc.tenant+"/"+tc.sku, tc.want, got)
		}
	})

	t.Run("by platform id", func(t *testing.T) {
		for _, tc := range []struct {
			conn, product, variant string
			wantTenant, wantSKU    string // "" means not found
		}{
			{"c1", "P100", "V1", "ta", "SKU-1"},
			{"c1", "P100", "V2", "ta", "SKU-2"},
			{"c1", "P300", "", "ta", "SKU-3"},
			{"c2", "9001", "", "ta", "SKU-1"},
			{"c3", "P100", "V1", "tb", "SKU-1"},
			{"c1", "P100", "", "", ""},   // a product with variants is not a variant-less product
			{"c1", "P300", "V1", "", ""}, // nor the other way round
			{"c2", "P100", "V1", "", ""}, // ids belong to their connection
		} {
			got, err := s.MappingByPlatformID(c, tc.conn, tc.product, tc.variant)
			what := tc.conn + "/" + tc.product + "/" + tc.variant
			if tc.wantSKU == "" {
				wantErr(t, what, err, store.ErrNotFound)
				continue
			}
			noErr(t, what, err)
			if got.Tenant != tc.wantTenant || got.SKU != tc.wantSKU {
				t.Errorf("%s: got %s/%s, want %s/%s", what, got.Tenant, got.SKU, tc.wantTenant, tc.wantSKU)
			}
		}
	})

	t.Run("remap moves the platform id", func(t *testing.T) {
		moved := mapping("ta", "c1", "SKU-3", "P301", "")
		noErr(t, "remap", s.PutMapping(c, moved))
		_, err := s.MappingByPlatformID(c, "c1", "P300", "")
		wantErr(t, "old id", err, store.ErrNotFound)
		got, err := s.MappingByPlatformID(c, "c1", "P301", "")
		noErr(t, "new id", err)
		sameJSON(t, "remapped", moved, got)
	})
}

func testDesiredAndPushed(t *testing.T, s store.Store) {
	c := ctx(t)
	t.Run("not found", func(t *testing.T) {
		_, err := s.GetDesired(c, "ta", "c1", "SKU-1")
		wantErr(t, "desired", err, store.ErrNotFound)
		_, err = s.GetPushed(c, "ta", "c1", "SKU-1")
		wantErr(t, "pushed", err, store.ErrNotFound)
	})

	// Steps run in order against the same key; want is what Get returns afterwards.
	t.Run("desired only moves forward", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			put     domain.DesiredState
			wantErr error
			wantRev int64
		}{
			{"first", desired("ta", "c1", "SKU-1", 3), nil, 3},
			{"newer", desired("ta", "c1", "SKU-1", 5), nil, 5},
			{"equal is stale", desired("ta", "c1", "SKU-1", 5), store.ErrStale, 5},
			{"older is stale", desired("ta", "c1", "SKU-1", 4), store.ErrStale, 5},
			{"other connection is independent", desired("ta", "c2", "SKU-1", 1), nil, 5},
		} {
			err := s.PutDesired(c, tc.put)
			if tc.wantErr != nil {
				wantErr(t, tc.name, err, tc.wantErr)
			} else {
				noErr(t, tc.name, err)
			}
			got, err := s.GetDesired(c, "ta", "c1", "SKU-1")
			noErr(t, tc.name+": get", err)
			if got.Rev != tc.wantRev {
				t.Errorf("%s: stored rev %d, want %d", tc.name, got.Rev, tc.wantRev)
			}
		}
		got, err := s.GetDesired(c, "ta", "c1", "SKU-1")
		noErr(t, "get", err)
		sameJSON(t, "desired", desired("ta", "c1", "SKU-1", 5), got)
		wantUTC(t, "computed_at", got.ComputedAt)
		_, err = s.GetDesired(c, "tb", "c1", "SKU-1")
		wantErr(t, "other tenant", err, store.ErrNotFound)
	})

	t.Run("pushed overwrites on equal rev", func(t *testing.T) {
		later := at.Add(time.Minute)
		for _, tc := range []struct {
			name     string
			put      domain.PushedState
			wantErr  error
			wantRev  int64
			wantTime time.Time
		}{
			{"first", pushed("ta", "c1", "SKU-1", 3, at), nil, 3, at},
			{"equal overwrites", pushed("ta", "c1", "SKU-1", 3, later), nil, 3, later},
			{"older is stale", pushed("ta", "c1", "SKU-1", 2, at), store.ErrStale, 3, later},
			{"newer", pushed("ta", "c1", "SKU-1", 4, at), nil, 4, at},
		} {
			err := s.PutPushed(c, tc.put)
			if tc.wantErr != nil {
				wantErr(t, tc.name, err, tc.wantErr)
			} else {
				noErr(t, tc.name, err)
			}
			got, err := s.GetPushed(c, "ta", "c1", "SKU-1")
			noErr(t, tc.name+": get", err)
			if got.Rev != tc.wantRev || !got.PushedAt.Equal(tc.wantTime) {
				t.Errorf("%s: stored rev %d at %v, want %d at %v", tc.name, got.Rev, got.PushedAt, tc.wantRev, tc.wantTime)
			}
		}
		got, err := s.GetPushed(c, "ta", "c1", "SKU-1")
		noErr(t, "get", err)
		sameJSON(t, "pushed", pushed("ta", "c1", "SKU-1", 4, at), got)
		wantUTC(t, "pushed_at", got.PushedAt)
		_, err = s.GetPushed(c, "ta", "c2", "SKU-1")
		wantErr(t, "other connection", err, store.ErrNotFound)
	})
}

func testDesiredMany(t *testing.T, s store.Store) {
	c := ctx(t)
	noErr(t, "seed", s.PutDesired(c, desired("ta", "c1", "SKU-1", 5)))
	batch := []domain.DesiredState{
		desired("ta", "c1", "SKU-1", 4), // older than stored
		desired("ta", "c1", "SKU-2", 1), // new
		desired("ta", "c2", "SKU-1", 2), // other connection
		desired("ta", "c1", "SKU-1", 6), // newer, later in the same batch
	}
	errs, err := s.PutDesiredMany(c, batch)
	noErr(t, "put many", err)
	if len(errs) != len(batch) {
		t.Fatalf("got %d results for %d states", len(errs), len(batch))
	}
	wantErr(t, "older in batch", errs[0], store.ErrStale)
	for i := 1; i < len(batch); i++ {
		noErr(t, "batch item", errs[i])
	}
	for _, tc := range []struct {
		conn, sku string
		rev       int64
	}{{"c1", "SKU-1", 6}, {"c1", "SKU-2", 1}, {"c2", "SKU-1", 2}} {
		got, err := s.GetDesired(c, "ta", tc.conn, tc.sku)
		noErr(t, "get", err)
		sameJSON(t, tc.conn+"/"+tc.sku, desired("ta", tc.conn, tc.sku, tc.rev), got)
	}
	if errs, err := s.PutDesiredMany(c, nil); err != nil || len(errs) != 0 {
		t.Fatalf("empty batch: %v %v", errs, err)
	}
}
