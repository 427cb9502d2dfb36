// Package adminui is the operator's web page: static files embedded in the binary, so
// the erp-api Lambda and `ponte serve` serve the same page offline, with no build step.
package adminui

import (
	"embed"
	"fmt"
	"net/http"
)

//go:embed static
var files embed.FS

// CSP allows only the page's own files and API: every byte of API data is untrusted
// (payloads come from ERPs and platforms), so no inline script or style may run.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// assets maps a request path (below the mount point) to a file and its type.
var assets = map[string]struct{ name, contentType string }{
	"/":           {"index.html", "text/html; charset=utf-8"},
	"/index.html": {"index.html", "text/html; charset=utf-8"},
	"/app.js":     {"app.js", "text/javascript; charset=utf-8"},
	"/style.css":  {"style.css", "text/css; charset=utf-8"},
}

// Handler serves the page. Mount it with its prefix stripped (so "/" is the page);
// unknown paths are 404, never a fallback to index.html, so a typo is not a blank page.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		// no-cache: the browser revalidates, so a deploy is seen on the next load.
		h.Set("Cache-Control", "no-cache")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		path := r.URL.Path
		if path == "" {
			path = "/"
		}
		a, ok := assets[path]
		if !ok {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		body, err := files.ReadFile("static/" + a.name)
		if err != nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		h.Set("Content-Type", a.contentType)
		h.Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}
