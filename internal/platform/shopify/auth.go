package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// Credentials live in the connection's secret:
//
//	access_token             the Admin API token (X-Shopify-Access-Token)
//	webhook_secret           the app's client secret, which signs webhooks
//	webhook_secret_previous  optional, accepted during a secret rotation
//	refresh_token            optional: the token expires (Shopify's expiring offline
//	access_token_expires_at  tokens last an hour) and is refreshed with client_id and
//	client_id, client_secret client_secret (webhook_secret when client_secret is unset)
//
// Refreshed tokens are saved back with PutSecret, every other key kept.

// tokens is what the connector keeps of a connection's secret.
type tokens struct {
	raw     map[string]string
	access  string
	refresh string
	expires time.Time // zero: does not expire
}

func parseTokens(raw map[string]string) *tokens {
	t := &tokens{raw: raw, access: strings.TrimSpace(raw["access_token"]), refresh: strings.TrimSpace(raw["refresh_token"])}
	if v := strings.TrimSpace(raw["access_token_expires_at"]); v != "" {
		t.expires, _ = time.Parse(time.RFC3339, v) // unreadable: treated as not expiring; a 401 still refreshes
	}
	return t
}

// loadTokens reads the secret. Caller holds tokMu.
func (c *Connector) loadTokens(ctx context.Context, conn domain.Connection, st *connState, op string) error {
	if conn.SecretRef == "" {
		return authErr(op, "connection %s has no secret_ref", conn.ID)
	}
	raw, err := c.secrets.GetSecret(ctx, conn.SecretRef)
	if err != nil {
		return transient(op, "reading credentials: %v", err)
	}
	t := parseTokens(raw)
	if t.access == "" && t.refresh == "" {
		return authErr(op, "secret %s has no access_token", conn.SecretRef)
	}
	st.tok = t
	return nil
}

// accessToken returns the connection's token, refreshing it shortly before it expires.
func (c *Connector) accessToken(ctx context.Context, conn domain.Connection, s settings, st *connState, op string) (string, error) {
	st.tokMu.Lock()
	defer st.tokMu.Unlock()
	if st.tok == nil {
		if err := c.loadTokens(ctx, conn, st, op); err != nil {
			return "", err
		}
	}
	t := st.tok
	due := t.access == "" || (!t.expires.IsZero() && !c.opts.Now().Add(c.opts.RefreshBefore).Before(t.expires))
	if due && t.refresh != "" {
		if err := c.refreshTokens(ctx, conn, s, st, op); err != nil {
			return "", err
		}
	}
	if st.tok.access == "" {
		return "", authErr(op, "secret %s has no access_token", conn.SecretRef)
	}
	return st.tok.access, nil
}

// renewRejected handles a 401 for token rejected: another instance may have refreshed
// already (the secret holds a newer token), else refresh when the connection can. ok is
// false when there is nothing newer to try.
func (c *Connector) renewRejected(ctx context.Context, conn domain.Connection, s settings, st *connState, op, rejected string) (string, bool, error) {
	st.tokMu.Lock()
	defer st.tokMu.Unlock()
	if st.tok != nil && st.tok.access != rejected && st.tok.access != "" {
		return st.tok.access, true, nil // refreshed meanwhile by another call
	}
	if err := c.loadTokens(ctx, conn, st, op); err != nil {
		return "", false, err
	}
	if st.tok.access != rejected && st.tok.access != "" {
		return st.tok.access, true, nil
	}
	if st.tok.refresh == "" {
		return "", false, nil
	}
	if err := c.refreshTokens(ctx, conn, s, st, op); err != nil {
		return "", false, err
	}
	return st.tok.access, st.tok.access != rejected, nil
}

// refreshTokens exchanges the refresh token (POST {shop}/admin/oauth/access_token,
// grant_type refresh_token) and saves the new pair. Caller holds tokMu.
func (c *Connector) refreshTokens(ctx context.Context, conn domain.Connection, s settings, st *connState, op string) error {
	t := st.tok
	clientID := strings.TrimSpace(t.raw["client_id"])
	secret := strings.TrimSpace(t.raw["client_secret"])
	if secret == "" {
		secret = strings.TrimSpace(t.raw["webhook_secret"])
	}
	if clientID == "" || secret == "" {
		return authErr(op, "access token expired and secret %s has no client_id/client_secret to refresh it", conn.SecretRef)
	}
	body, _ := json.Marshal(map[string]string{"client_id": clientID, "client_secret": secret,
		"refresh_token": t.refresh, "grant_type": "refresh_token"})
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodPost, s.origin+"/admin/oauth/access_token", bytes.NewReader(body))
	if err != nil {
		return permanent(op, "building token refresh: %s", describeTransportErr(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	c.calls.Add(1)
	st.calls.Add(1)
	c.refreshes.Add(1)
	resp, err := c.client.Do(req)
	if err != nil {
		return transient(op, "token refresh: %s", describeTransportErr(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return transient(op, "token refresh: reading response: %s", describeTransportErr(err))
	}
	e := &platform.Error{Platform: Name, Op: op, StatusCode: resp.StatusCode, Message: "token refresh"}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		e.Kind, e.RetryAfter = platform.RateLimited, retryAfter(resp.Header)
		return e
	case code >= 500:
		e.Kind = platform.Transient
		return e
	case code < 200 || code >= 300:
		var oe struct {
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
		}
		_ = json.Unmarshal(data, &oe)
		e.Kind = platform.Auth
		e.Message += ": refresh token rejected"
		if oe.Error != "" {
			e.Message += " (" + redact(truncate(oe.Error+" "+oe.ErrorDescription, 120)) + ")"
		}
		return e
	}
	var out struct {
		AccessToken  string          `json:"access_token"`
		ExpiresIn    json.RawMessage `json:"expires_in"`
		RefreshToken string          `json:"refresh_token"`
	}
	if json.Unmarshal(data, &out) != nil || out.AccessToken == "" {
		e.Kind = platform.Transient
		e.Message += ": unexpected body"
		return e
	}
	next := maps.Clone(t.raw)
	next["access_token"] = out.AccessToken
	if out.RefreshToken != "" {
		next["refresh_token"] = out.RefreshToken
	}
	delete(next, "access_token_expires_at")
	if secs, err := strconv.ParseFloat(strings.Trim(string(out.ExpiresIn), `" `), 64); err == nil && secs > 0 && secs < 1e9 {
		next["access_token_expires_at"] = c.opts.Now().UTC().Add(time.Duration(secs * float64(time.Second))).Format(time.RFC3339)
	}
	// Use the new token even if saving fails; the next refresh still has a valid
	// refresh token in memory, and Shopify keeps the previous one until the new is used.
	st.tok = parseTokens(next)
	if err := c.secrets.PutSecret(ctx, conn.SecretRef, next); err != nil {
		c.log.Warn("shopify: saving refreshed token failed", "connection", conn.ID, "error", err.Error())
	}
	c.log.Info("shopify: access token refreshed", "connection", conn.ID)
	return nil
}
