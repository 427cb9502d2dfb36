package dynamodb

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

func TestListShardSpreadsAndStaysInRange(t *testing.T) {
	used := map[int]int{}
	for i := range 1000 {
		sh := listShard(fmt.Sprintf("SKU-%05d", i))
		if sh < 0 || sh >= listShards {
			t.Fatalf("shard %d out of range", sh)
		}
		used[sh]++
	}
	// A fair hash puts ~125 of 1000 ids on each shard; 60 catches a broken one.
	for sh := range listShards {
		if used[sh] < 60 {
			t.Errorf("shard %d got %d of 1000 ids: %v", sh, used[sh], used)
		}
	}
}

func TestShardCursorDecode(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name, cursor string
		wantErr      bool
	}{
		{"round trip", shardCursor{Listing: "SKUS", Shard: 3, After: "SKU-9"}.encode(), false},
		{"shard start", shardCursor{Listing: "SKUS", Shard: 7}.encode(), false},
		{"other listing", shardCursor{Listing: "CUSTS", Shard: 3, After: "C-1"}.encode(), true},
		{"shard past the end", enc(`{"l":"SKUS","s":8}`), true},
		{"negative shard", enc(`{"l":"SKUS","s":-1}`), true},
		{"no listing", enc(`{}`), true},
		{"not json", enc(`SKUS`), true},
		{"not base64", "%%%", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeShardCursor(tc.cursor, "SKUS")
			if (err != nil) != tc.wantErr {
				t.Errorf("decode %q: err %v, want error %v", tc.cursor, err, tc.wantErr)
			}
		})
	}
}

// TestListingGSIKeysAreDistinct: a listing partition must never be another gsi1 key.
func TestListingGSIKeysAreDistinct(t *testing.T) {
	others := []string{tenantsGSI, pendingGSI, tenantConnsGSI("SKUS"), platformGSI("x", "y", "z"), erpGSI("SKUS", "pending")}
	for _, l := range []listing{skuListing, customerListing} {
		g := l.gsi("t#1", 2)
		if g != l.prefix+"#t%231#2" {
			t.Errorf("gsi %q: tenant not escaped or shard missing", g)
		}
		for _, o := range others {
			if strings.HasPrefix(o, l.prefix+"#") {
				t.Errorf("gsi1 key %q falls in listing %s", o, l.prefix)
			}
		}
	}
}
