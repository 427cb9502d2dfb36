package httpapi_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// Every JSON route the handler serves is documented in api/openapi.yaml with its method
// (the page's static files under /admin are not API routes).
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	src, err := os.ReadFile("api.go")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := os.ReadFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	path := ""
	for line := range strings.SplitSeq(string(spec), "\n") {
		switch {
		case strings.HasPrefix(line, "  /") && strings.HasSuffix(line, ":"):
			path = strings.TrimSuffix(strings.TrimSpace(line), ":")
		case strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     ") && strings.HasSuffix(line, ":") && path != "":
			documented[strings.ToUpper(strings.TrimSuffix(strings.TrimSpace(line), ":"))+" "+path] = true
		case !strings.HasPrefix(line, " ") && line != "":
			path = ""
		}
	}
	routes := regexp.MustCompile(`"((?:GET|POST|PUT|PATCH|DELETE) (/v1/[^"]*|/healthz))"`).FindAllStringSubmatch(string(src), -1)
	if len(routes) < 10 {
		t.Fatalf("found %d routes in api.go", len(routes))
	}
	for _, m := range routes {
		if !documented[m[1]] {
			t.Errorf("route %s is not in api/openapi.yaml", m[1])
		}
	}
}
