package storetest

import (
	"sort"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/store"
)

func testTenants(t *testing.T, s store.Store) {
	c := ctx(t)
	a, b, keyless := tenant("ta", "hash-a"), tenant("tb", "hash-b"), tenant("tc", "")
	for _, tn := range []domain.Tenant{a, b, keyless} {
		noErr(t, "put tenant "+tn.ID, s.PutTenant(c, tn))
	}

	t.Run("get", func(t *testing.T) {
		for _, tc := range []struct {
			id   string
			want *domain.Tenant
		}{{"ta", &a}, {"tb", &b}, {"tc", &keyless}, {"missing", nil}} {
			got, err := s.GetTenant(c, tc.id)
			if tc.want == nil {
				wantErr(t, "get "+tc.id, err, store.ErrNotFound)
				continue
			}
			noErr(t, "get "+tc.id, err)
			sameJSON(t, "tenant "+tc.id, *tc.want, got)
			wantUTC(t, "tenant created_at", got.CreatedAt)
		}
	})

	t.Run("by api key hash", func(t *testing.T) {
		for _, tc := range []struct {
			hash, wantID string // wantID "" means not found
		}{{"hash-a", "ta"}, {"hash-b", "tb"}, {"hash-x", ""}, {"", ""}, {"HASH-A", ""}} {
			got, err := s.TenantByAPIKeyHash(c, tc.hash)
			if tc.wantID == "" {
				wantErr(t, "key "+tc.hash, err, store.ErrNotFound)
				continue
			}
			noErr(t, "key "+tc.hash, err)
			if got.ID != tc.wantID {
				t.Errorf("key %q reached tenant %q, want %q", tc.hash, got.ID, tc.wantID)
			}
		}
	})

	t.Run("key rotation retires the old key", func(t *testing.T) {
		rotated := a
		rotated.APIKeyHash = "hash-a2"
		noErr(t, "rotate", s.PutTenant(c, rotated))
		_, err := s.TenantByAPIKeyHash(c, "hash-a")
		wantErr(t, "old key", err, store.ErrNotFound)
		got, err := s.TenantByAPIKeyHash(c, "hash-a2")
		noErr(t, "new key", err)
		if got.ID != "ta" {
			t.Errorf("new key reached %q", got.ID)
		}
	})

	t.Run("key owned by another tenant is refused", func(t *testing.T) {
		thief := tenant("td", "hash-b")
		if err := s.PutTenant(c, thief); err == nil {
			t.Fatal("PutTenant with another tenant's key hash succeeded")
		}
		got, err := s.TenantByAPIKeyHash(c, "hash-b")
		noErr(t, "key b", err)
		if got.ID != "tb" {
			t.Errorf("key b now reaches %q", got.ID)
		}
	})

	t.Run("list has every tenant once, by id", func(t *testing.T) {
		renamed := b
		renamed.Name = "Tenant b, renamed"
		noErr(t, "replace tb", s.PutTenant(c, renamed))
		got, err := s.ListTenants(c)
		noErr(t, "list tenants", err)
		rotated := a
		rotated.APIKeyHash = "hash-a2"
		sameJSON(t, "tenants", []domain.Tenant{rotated, renamed, keyless}, got)
		for _, tn := range got {
			wantUTC(t, "tenant created_at", tn.CreatedAt)
		}
	})
}

func testConnections(t *testing.T, s store.Store) {
	c := ctx(t)
	conns := []domain.Connection{connection("c1", "ta"), connection("c2", "ta"), connection("c3", "tb")}
	conns[1].Platform, conns[1].Rules = "shopify", domain.Rules{} // zero rules round trip too
	for _, cn := range conns {
		noErr(t, "put "+cn.ID, s.PutConnection(c, cn))
	}

	t.Run("get", func(t *testing.T) {
		for _, want := range conns {
			got, err := s.GetConnection(c, want.ID)
			noErr(t, "get "+want.ID, err)
			sameJSON(t, "connection "+want.ID, want, got)
			wantUTC(t, "connection created_at", got.CreatedAt)
		}
		_, err := s.GetConnection(c, "missing")
		wantErr(t, "get missing", err, store.ErrNotFound)
	})

	t.Run("list is per tenant", func(t *testing.T) {
		for _, tc := range []struct {
			tenant string
			want   []string
		}{{"ta", []string{"c1", "c2"}}, {"tb", []string{"c3"}}, {"nobody", nil}} {
			got, err := s.ListConnections(c, tc.tenant)
			noErr(t, "list "+tc.tenant, err)
			var ids []string
			for _, cn := range got {
				ids = append(ids, cn.ID)
				if cn.Tenant != tc.tenant {
					t.Errorf("tenant %s listed connection %s of tenant %s", tc.tenant, cn.ID, cn.Tenant)
				}
			}
			sort.Strings(ids)
			sameJSON(t, "connections of "+tc.tenant, tc.want, ids)
		}
	})

	t.Run("put replaces", func(t *testing.T) {
		changed := conns[0]
		changed.Enabled = false
		changed.Settings = map[string]string{"base_url": "https://other.test"}
		noErr(t, "replace", s.PutConnection(c, changed))
		got, err := s.GetConnection(c, changed.ID)
		noErr(t, "get", err)
		sameJSON(t, "replaced connection", changed, got)
		list, err := s.ListConnections(c, "ta")
		noErr(t, "list", err)
		if len(list) != 2 {
			t.Errorf("replace changed the listing: %d connections", len(list))
		}
	})
}

func testSecrets(t *testing.T, s store.Store) {
	sec, ok := s.(platform.Secrets)
	if !ok {
		t.Skip("this store does not implement platform.Secrets (credentials live elsewhere)")
	}
	c := ctx(t)
	_, err := sec.GetSecret(c, "conn/missing")
	wantErr(t, "missing secret", err, store.ErrNotFound)
	for _, values := range []map[string]string{
		{"access_token": "tok-1", "refresh_token": "ref-1", "expires_at": "2025-03-14T15:09:26Z"},
		{"access_token": "tok-2"}, // replace drops keys no longer present
	} {
		noErr(t, "put secret", sec.PutSecret(c, "conn/c1", values))
		got, err := sec.GetSecret(c, "conn/c1")
		noErr(t, "get secret", err)
		sameJSON(t, "secret", values, got)
	}
	_, err = sec.GetSecret(c, "conn/c2")
	wantErr(t, "other ref", err, store.ErrNotFound)
}
