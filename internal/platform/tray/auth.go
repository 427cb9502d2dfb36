package tray

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// Secret keys read from and written to platform.Secrets.
const (
	keyConsumerKey    = "consumer_key"
	keyConsumerSecret = "consumer_secret"
	keyCode           = "code"
	keyAccess         = "access_token"
	keyRefresh        = "refresh_token"
	keyAccessExp      = "access_expires_at"
	keyRefreshExp     = "refresh_expires_at"
)

type tokens struct {
	access, refresh       string
	accessExp, refreshExp time.Time
}

func tokensFrom(v map[string]string) *tokens {
	t := &tokens{access: v[keyAccess], refresh: v[keyRefresh]}
	t.accessExp, _ = time.Parse(time.RFC3339, v[keyAccessExp])
	t.refreshExp, _ = time.Parse(time.RFC3339, v[keyRefreshExp])
	return t
}

// do sends an authenticated request and classifies the answer. Any 401 that a new
// token can cure (1000 expired, 1099 invalid, or none at all) gets one refresh (the
// refresh_token, else a new grant from the code) and one retry; a long-lived process
// otherwise keeps sending a token Tray stopped accepting.
func (c *Connector) do(ctx context.Context, conn domain.Connection, s settings, r request) (response, error) {
	st := c.state(conn, s)
	for attempt := 0; ; attempt++ {
		tok, err := c.token(ctx, conn, st, s)
		if err != nil {
			return response{}, err
		}
		resp, err := c.send(ctx, st, s, r, tok)
		if err != nil {
			return response{}, err
		}
		if resp.status == http.StatusUnauthorized && attempt == 0 && refreshable(parseTrayError(resp.body).errorCode()) {
			st.tokMu.Lock()
			st.rejected = tok
			st.tokMu.Unlock()
			c.log.InfoContext(ctx, "tray refused the access token; refreshing once", "connection", conn.ID,
				"error_code", parseTrayError(resp.body).errorCode())
			continue
		}
		return resp, classify(r, resp, s.perMin, c.opts.Now())
	}
}

// token returns a usable access token, refreshing or bootstrapping it when needed.
// The mutex makes concurrent callers wait for one refresh instead of each doing one.
func (c *Connector) token(ctx context.Context, conn domain.Connection, st *connState, s settings) (string, error) {
	st.tokMu.Lock()
	defer st.tokMu.Unlock()
	now := c.opts.Now()
	if t := st.tok; t != nil && c.usable(t, st, now) {
		return t.access, nil
	}
	// Re-read the secret: another instance may have refreshed already.
	vals, err := c.secrets.GetSecret(ctx, conn.SecretRef)
	if err != nil {
		return "", transient("auth", "reading credentials for connection %s: %s", conn.ID, redact(err.Error()))
	}
	t := tokensFrom(vals)
	if c.usable(t, st, now) {
		st.tok = t
		return t.access, nil
	}
	var nt *tokens
	if t.refresh != "" && now.Before(t.refreshExp) {
		nt, err = c.refreshToken(ctx, st, s, t.refresh)
		var pe *platform.Error
		if err != nil && (!errors.As(err, &pe) || pe.Kind != platform.Auth || pe.StatusCode == 0 || storeDown(pe)) {
			return "", err
		}
		if err != nil {
			c.log.WarnContext(ctx, "tray refresh token rejected; trying the authorization code", "connection", conn.ID)
		}
	}
	if nt == nil {
		if nt, err = c.grantToken(ctx, st, s, vals); err != nil {
			return "", err
		}
	}
	st.tok, st.rejected = nt, ""
	merged := maps.Clone(vals)
	if merged == nil {
		merged = map[string]string{}
	}
	merged[keyAccess], merged[keyRefresh] = nt.access, nt.refresh
	merged[keyAccessExp] = nt.accessExp.UTC().Format(time.RFC3339)
	merged[keyRefreshExp] = nt.refreshExp.UTC().Format(time.RFC3339)
	if err := c.secrets.PutSecret(ctx, conn.SecretRef, merged); err != nil {
		// The tokens work; only a restart would have to refresh again.
		c.log.WarnContext(ctx, "tray tokens not saved", "connection", conn.ID, "error", redact(err.Error()))
	}
	return nt.access, nil
}

func (c *Connector) usable(t *tokens, st *connState, now time.Time) bool {
	return t.access != "" && t.access != st.rejected && now.Add(c.opts.RefreshBefore).Before(t.accessExp)
}

// refreshable says a 401 with this error_code may be cured by a new token: everything
// but the store being blocked, inactive or cancelled (1001-1003).
func refreshable(code int) bool { return code < 1001 || code > 1003 }

// storeDown reports the 401 codes no credential can fix.
func storeDown(e *platform.Error) bool {
	return strings.Contains(e.Message, "blocked") || strings.Contains(e.Message, "inactive") || strings.Contains(e.Message, "cancelled")
}

func (c *Connector) refreshToken(ctx context.Context, st *connState, s settings, refresh string) (*tokens, error) {
	c.refreshes.Add(1)
	r := request{op: "auth", method: http.MethodGet, path: "/auth", query: url.Values{"refresh_token": {refresh}}}
	return c.authCall(ctx, st, s, r)
}

func (c *Connector) grantToken(ctx context.Context, st *connState, s settings, vals map[string]string) (*tokens, error) {
	for _, k := range []string{keyConsumerKey, keyConsumerSecret, keyCode} {
		if strings.TrimSpace(vals[k]) == "" {
			return nil, authErr("auth", "credentials lack %s; authorise the app on the store again", k)
		}
	}
	c.grants.Add(1)
	form := url.Values{keyConsumerKey: {vals[keyConsumerKey]}, keyConsumerSecret: {vals[keyConsumerSecret]}, keyCode: {vals[keyCode]}}
	r := request{op: "auth", method: http.MethodPost, path: "/auth", body: []byte(form.Encode()), form: true}
	return c.authCall(ctx, st, s, r)
}

// authCall runs POST/GET /auth and reads the token answer.
func (c *Connector) authCall(ctx context.Context, st *connState, s settings, r request) (*tokens, error) {
	resp, err := c.send(ctx, st, s, r, "")
	if err != nil {
		return nil, err
	}
	if err := classify(r, resp, s.perMin, c.opts.Now()); err != nil {
		var pe *platform.Error
		if errors.As(err, &pe) && resp.status >= 400 && resp.status < 500 && resp.status != http.StatusTooManyRequests {
			pe.Kind = platform.Auth // a refused grant needs a human, not retries
			if !storeDown(pe) {
				pe.Message += " (Tray refused the credentials; re-authorise the app)"
			}
		}
		return nil, err
	}
	var body struct {
		AccessToken   string `json:"access_token"`
		RefreshToken  string `json:"refresh_token"`
		AccessExpires string `json:"date_expiration_access_token"`
		RefreshExpire string `json:"date_expiration_refresh_token"`
	}
	if err := json.Unmarshal(resp.body, &body); err != nil || body.AccessToken == "" {
		return nil, transient("auth", "%s /auth: HTTP %d without tokens (%s)", r.method, resp.status, snippet(resp.body))
	}
	now := c.opts.Now()
	t := &tokens{access: body.AccessToken, refresh: body.RefreshToken}
	// Tray gives store-local "YYYY-MM-DD HH:MM:SS"; fall back to its documented lifetimes.
	if t.accessExp = c.localTime(body.AccessExpires); t.accessExp.IsZero() {
		t.accessExp = now.Add(3 * time.Hour)
	}
	if t.refreshExp = c.localTime(body.RefreshExpire); t.refreshExp.IsZero() {
		t.refreshExp = now.Add(30 * 24 * time.Hour)
	}
	return t, nil
}

// localTime parses Tray's São Paulo "YYYY-MM-DD HH:MM:SS"; zero when unparsable.
func (c *Connector) localTime(v string) time.Time {
	t, err := time.ParseInLocation(time.DateTime, strings.TrimSpace(v), c.sp)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
