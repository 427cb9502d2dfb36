package httpapi_test

import (
	"encoding/base64"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

// TestBadCursorIs400 gives every paged listing cursors it never gave out: each answers
// 400 naming cursor (not 503 "store unavailable; retry", which sent clients into retry
// loops) and logs no ERROR.
func TestBadCursorIs400(t *testing.T) {
	e := newEnv(t)
	logs := &syncBuffer{}
	e.hub.API.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.h = e.hub.API.Handler()

	cursors := map[string]string{
		"not base64":       "!!not-a-cursor!!",
		"base64, not JSON": base64.RawURLEncoding.EncodeToString([]byte("garbage")),
		"empty JSON":       base64.RawURLEncoding.EncodeToString([]byte("{}")),
		"another listing":  base64.RawURLEncoding.EncodeToString([]byte(`{"l":"customers","a":"C-1"}`)),
	}
	paths := []string{
		"/v1/erp/orders?",
		"/v1/erp/orders?status=pending&",
		"/v1/admin/orders?",
		"/v1/admin/connections/" + connA + "/unmapped?",
	}
	for _, path := range paths {
		for name, cursor := range cursors {
			t.Run(strings.TrimSuffix(path, "?")+"/"+name, func(t *testing.T) {
				rec := e.get(t, keyA, path+"cursor="+url.QueryEscape(cursor))
				if rec.Code != 400 || errorBody(t, rec).Field != "cursor" {
					t.Errorf("%d %s, want 400 naming cursor", rec.Code, rec.Body)
				}
			})
		}
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("bad cursors logged errors:\n%s", logs)
	}
}
