package sam

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ponte-hub/ponte/internal/topology"
)

// The checked-in template.yaml is what the declaration renders today.
func TestCheckedInTemplateIsCurrent(t *testing.T) {
	want, err := Render(topology.Default())
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("template.yaml is stale: run `go run ./cmd/samgen` in infra/ and commit it")
	}
}

func TestEveryFunctionBuildsWithTheGoBuilderFromItsCodeDir(t *testing.T) {
	b, err := Render(topology.New([]string{"shopify", "tray"}))
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]struct {
			Type       string         `yaml:"Type"`
			Metadata   map[string]any `yaml:"Metadata"`
			Properties map[string]any `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"ErpApiFunction":      "functions/erp-api",
		"FanoutFunction":      "functions/fanout",
		"PushTrayFunction":    "functions/push-tray",
		"PushShopifyFunction": "functions/push-shopify",
		"ReconcileFunction":   "functions/reconcile",
		"WebhooksFunction":    "functions/webhooks",
		"OrdersFunction":      "functions/orders",
		"EventsFunction":      "functions/events",
		"OrderPollFunction":   "functions/order-poll",
	}
	n := 0
	for id, r := range tpl.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		n++
		if cases[id] == "" || r.Properties["CodeUri"] != cases[id] {
			t.Errorf("%s: CodeUri %v, want %q", id, r.Properties["CodeUri"], cases[id])
		}
		if r.Metadata["BuildMethod"] != "go1.x" || r.Properties["Runtime"] != "provided.al2023" ||
			r.Properties["Handler"] != "bootstrap" {
			t.Errorf("%s: metadata %v properties %v", id, r.Metadata, r.Properties)
		}
		// An explicit role keeps SAM from attaching its managed policies (logs and SQS on "*").
		if _, ok := r.Properties["Role"]; !ok || r.Properties["Policies"] != nil {
			t.Errorf("%s: must use its declared role only", id)
		}
	}
	if n != len(cases) {
		t.Errorf("%d functions, want %d", n, len(cases))
	}
}

func TestRouteEventNames(t *testing.T) {
	cases := []struct{ method, path, want string }{
		{"POST", "/v1/erp/changes", "PostV1ErpChanges"},
		{"GET", "/v1/admin/connections/{id}/skus/{sku}", "GetV1AdminConnectionsIdSkusSku"},
		{"ANY", "/v1/admin/{proxy+}", "AnyV1AdminProxy"},
		{"GET", "/healthz", "GetHealthz"},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if got := RouteEventName(topology.Route{Method: c.method, Path: c.path}); got != c.want {
			t.Errorf("%s %s: %s, want %s", c.method, c.path, got, c.want)
		}
	}
	for _, r := range topology.Default().Routes {
		n := RouteEventName(r)
		if seen[n] || strings.ContainsAny(n, "{}/+-") {
			t.Errorf("route %s: event name %q duplicate or not alphanumeric", r.Key(), n)
		}
		seen[n] = true
	}
}
