package adminui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	for _, c := range []struct {
		name, method, path string
		status             int
		contentType, body  string
	}{
		{"page", "GET", "/", 200, "text/html; charset=utf-8", `<script src="app.js" defer></script>`},
		{"page by name", "GET", "/index.html", 200, "text/html; charset=utf-8", "<title>"},
		{"script", "GET", "/app.js", 200, "text/javascript; charset=utf-8", "textContent"},
		{"style", "GET", "/style.css", 200, "text/css; charset=utf-8", "li.failure"},
		{"head", "HEAD", "/app.js", 200, "text/javascript; charset=utf-8", ""},
		{"unknown file", "GET", "/secrets.txt", 404, "text/plain; charset=utf-8", "not found"},
		{"no directory walk", "GET", "/../adminui.go", 404, "text/plain; charset=utf-8", "not found"},
		{"post", "POST", "/", 405, "text/plain; charset=utf-8", "method not allowed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Handler().ServeHTTP(rec, httptest.NewRequest(c.method, "http://hub"+c.path, nil))
			if rec.Code != c.status || rec.Header().Get("Content-Type") != c.contentType || !strings.Contains(rec.Body.String(), c.body) {
				t.Fatalf("%d %q %.80q, want %d %q containing %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String(), c.status, c.contentType, c.body)
			}
			if c.method == http.MethodHead && rec.Body.Len() != 0 {
				t.Errorf("HEAD has a body of %d bytes", rec.Body.Len())
			}
			for k, want := range map[string]string{"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
				"X-Frame-Options": "DENY", "Cache-Control": "no-cache"} {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestNoInlineCode keeps the page within its CSP: no inline script, style or handler,
// and no resource from elsewhere (the page must work offline).
func TestNoInlineCode(t *testing.T) {
	for _, name := range []string{"index.html", "app.js", "style.css"} {
		b, err := files.ReadFile("static/" + name)
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		s := string(b)
		for _, bad := range []string{"<script>", "<style", " style=", " onclick=", " onload=", "innerHTML", "outerHTML",
			"insertAdjacentHTML", "document.write", "eval(", "http://", "https://", "//cdn"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
	if !strings.Contains(CSP, "default-src 'self'") || !strings.Contains(CSP, "frame-ancestors 'none'") || strings.Contains(CSP, "unsafe") {
		t.Errorf("CSP %q is not strict", CSP)
	}
}
