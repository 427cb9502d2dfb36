package shopify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ponte-hub/ponte/internal/platform"
	"github.com/ponte-hub/ponte/internal/platform/shopify/shopifysim"
)

func TestExpiringTokens(t *testing.T) {
	cfg := shopifysim.StoreConfig{AccessTTL: time.Hour, ClientID: "cid", ClientSecret: "csecret", RefreshToken: "shprt_first"}
	secret := func(expires time.Time) map[string]string {
		return map[string]string{"access_token": testToken, "refresh_token": "shprt_first", "client_id": "cid",
			"client_secret": "csecret", "webhook_secret": testSecret, "access_token_expires_at": expires.UTC().Format(time.RFC3339)}
	}
	tests := []struct {
		name      string
		secret    map[string]string
		expire    bool // the shop expires the token early
		external  bool // another instance refreshed and saved a new token
		refreshes int64
		kind      platform.Kind
		wantErr   string
	}{
		{name: "refreshed ahead of expiry", secret: secret(time.Now().Add(time.Minute)), refreshes: 1},
		{name: "not due yet", secret: secret(time.Now().Add(time.Hour)), refreshes: 0},
		{name: "401 refreshes and retries once", secret: secret(time.Now().Add(time.Hour)), expire: true, refreshes: 1},
		{name: "401 picks up a token another instance saved", secret: secret(time.Now().Add(time.Hour)), external: true, refreshes: 0},
		{name: "refresh token rejected", secret: func() map[string]string {
			s := secret(time.Now())
			s["refresh_token"] = "shprt_wrong"
			return s
		}(), refreshes: 1, kind: platform.Auth, wantErr: "refresh token rejected"},
		{name: "expired without client credentials", secret: func() map[string]string {
			s := secret(time.Now())
			delete(s, "client_id")
			return s
		}(), kind: platform.Auth, wantErr: "client_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, shopifysim.Options{}, cfg, nil)
			e.secrets.data["shopify/conn1"] = tt.secret
			ts := e.seed(1)
			if tt.external {
				// Warm the connector's cache, then let "another instance" rotate the token.
				noErrors(t, e.c.Push(context.Background(), e.conn, stockUpdates(ts, func(int) int64 { return 1 })))
				other := New(e.secrets, Options{})
				s, _ := other.settings(e.conn)
				st := other.state(e.conn, s)
				st.tokMu.Lock()
				if err := other.loadTokens(context.Background(), e.conn, st, "test"); err != nil {
					t.Fatal(err)
				}
				if err := other.refreshTokens(context.Background(), e.conn, s, st, "test"); err != nil {
					t.Fatal(err)
				}
				st.tokMu.Unlock()
				e.sim.ExpireToken(testShop, testToken) // the old token stops working
			}
			if tt.expire {
				e.sim.ExpireTokens(testShop)
			}
			err := e.c.Push(context.Background(), e.conn, stockUpdates(ts, func(int) int64 { return 2 }))[0]
			if got := e.c.Stats().TokenRefreshes; got != tt.refreshes {
				t.Fatalf("refreshes %d, want %d", got, tt.refreshes)
			}
			if tt.wantErr != "" {
				if err == nil || kindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want %v with %q", err, tt.kind, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.stock(ts[0].VariantID) != 2 {
				t.Fatal("write not applied")
			}
			saved := e.secrets.data["shopify/conn1"]
			if tt.refreshes > 0 {
				if saved["access_token"] == testToken || !strings.HasPrefix(saved["refresh_token"], "shprt_") || saved["refresh_token"] == "shprt_first" ||
					saved["webhook_secret"] != testSecret || saved["access_token_expires_at"] == "" {
					t.Fatalf("saved secret %v", saved)
				}
			}
		})
	}
}
