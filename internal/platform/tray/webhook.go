package tray

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

// MaxWebhookBody is the largest delivery accepted; Tray's are a few hundred bytes.
const MaxWebhookBody = 64 << 10

// VerifyWebhook checks a Tray notification. Tray signs nothing; its documented
// substitute is that seller_id names the store (and app_code the app, when configured).
// Bodies are form-encoded; a JSON object with the same fields is accepted too.
func (c *Connector) VerifyWebhook(_ context.Context, conn domain.Connection, req platform.WebhookRequest) (platform.WebhookEvent, error) {
	const op = "verify_webhook"
	if len(req.Body) > MaxWebhookBody {
		return platform.WebhookEvent{}, &platform.MalformedError{Field: "body", TooLarge: true,
			Err: fmt.Errorf("%d bytes exceed Tray's %d", len(req.Body), MaxWebhookBody)}
	}
	storeID := strings.TrimSpace(conn.Setting("store_id", ""))
	if storeID == "" {
		return platform.WebhookEvent{}, permanent(op, "connection %s has no store_id setting to check seller_id against", conn.ID)
	}
	fields, err := webhookFields(req)
	if err != nil {
		return platform.WebhookEvent{}, platform.Malformed("body", "%v", err)
	}
	// The substitute check first: until seller_id (and app_code) say the delivery is
	// for this store, nothing else about it is trusted or reported as unparseable. A
	// delivery without them cannot be checked at all: malformed, not forged.
	seller := fields["seller_id"]
	if seller == "" {
		return platform.WebhookEvent{}, platform.Malformed("seller_id", "missing")
	}
	if seller != storeID {
		return platform.WebhookEvent{}, authErr(op, "field seller_id does not match the connection's store")
	}
	want := strings.TrimSpace(conn.Setting("app_code", ""))
	if want != "" && fields["app_code"] == "" {
		return platform.WebhookEvent{}, platform.Malformed("app_code", "missing")
	}
	if want != "" && fields["app_code"] != want {
		return platform.WebhookEvent{}, authErr(op, "field app_code does not match the connection's app")
	}
	// Verified from here on: a body the hub cannot read is stored and replayed later.
	for _, name := range []string{"scope_name", "scope_id", "act"} {
		v := fields[name]
		if v == "" {
			return platform.WebhookEvent{}, platform.Unparseable(name, "missing")
		}
		if len(v) > 128 || !utf8.ValidString(v) {
			return platform.WebhookEvent{}, platform.Unparseable(name, "not a valid value")
		}
	}
	switch fields["act"] {
	case "insert", "update", "delete":
	default:
		return platform.WebhookEvent{}, platform.Unparseable("act", "must be insert, update or delete, got %q", truncate(fields["act"], 20))
	}
	scope := fields["scope_name"]
	if !validScope(scope) {
		return platform.WebhookEvent{}, platform.Unparseable("scope_name", "%q is not a Tray scope", truncate(scope, 40))
	}
	if !numericID(fields["scope_id"]) {
		return platform.WebhookEvent{}, platform.Unparseable("scope_id", "%q is not a number", truncate(fields["scope_id"], 40))
	}
	return platform.WebhookEvent{
		Topic: scope + "/" + fields["act"], Resource: scope, ResourceID: fields["scope_id"],
	}, nil
}

// webhookFields reads the delivery as JSON (by content type or a leading '{') or as a form.
func webhookFields(req platform.WebhookRequest) (map[string]string, error) {
	ct := strings.ToLower(req.Header.Get("Content-Type"))
	body := bytes.TrimSpace(req.Body)
	if len(body) == 0 {
		return nil, fmt.Errorf("empty body")
	}
	if strings.Contains(ct, "json") || body[0] == '{' {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, fmt.Errorf("body is not a JSON object")
		}
		out := make(map[string]string, len(raw))
		for k, v := range raw {
			var fs flexString
			if err := json.Unmarshal(v, &fs); err == nil {
				out[k] = strings.TrimSpace(string(fs))
			}
		}
		return out, nil
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("body is not form-encoded")
	}
	out := make(map[string]string, len(vals))
	for k, v := range vals {
		if len(v) > 0 {
			out[k] = strings.TrimSpace(v[0])
		}
	}
	return out, nil
}

// numericID accepts Tray's resource ids: decimal digits.
func numericID(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// validScope accepts Tray scope names: lower-case words joined by underscores.
func validScope(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_') {
			return false
		}
	}
	return true
}
