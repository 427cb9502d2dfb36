package stack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ponte-hub/ponte/infra/sam"
	"github.com/ponte-hub/ponte/internal/topology"
)

// The CDK stack and the checked-in SAM template declare the same deployment: the same
// logical IDs, and for everything SAM does not transform the same resource, property for
// property. Functions, their SQS triggers and the HTTP routes are compared through what
// SAM turns them into.

// samTemplate reads ../../template.yaml, normalised through JSON like the CDK template.
func samTemplate(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return normal(v).(map[string]any)
}

// normal round-trips through JSON (numbers become float64) and writes every IAM
// statement's Action and Resource as a list (the CDK writes a single one as a scalar).
func normal(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if st, ok := x["Statement"].([]any); ok {
				for _, s := range st {
					if m, ok := s.(map[string]any); ok {
						for _, k := range []string{"Action", "Resource"} {
							if m[k] != nil {
								m[k] = list(m[k])
							}
						}
					}
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(out)
	return out
}

// cdkOnly are resource types the CDK writes for what SAM generates itself from a
// function's HttpApi events (compared as routes below) or for its own bookkeeping.
var cdkOnly = map[string]bool{
	"AWS::CDK::Metadata":             true,
	"AWS::Lambda::Permission":        true,
	"AWS::ApiGatewayV2::Route":       true,
	"AWS::ApiGatewayV2::Integration": true,
	"AWS::ApiGatewayV2::Stage":       true,
}

func TestParityWithSAMTemplate(t *testing.T) {
	cdk := normal(tmplJSON).(map[string]any)
	samT := samTemplate(t)
	cdkRes := cdk["Resources"].(map[string]any)
	samRes := samT["Resources"].(map[string]any)

	t.Run("logical IDs", func(t *testing.T) {
		var c, s []string
		for id, r := range cdkRes {
			typ := r.(map[string]any)["Type"].(string)
			if !cdkOnly[typ] && typ != "AWS::Lambda::EventSourceMapping" {
				c = append(c, id)
			}
		}
		for id := range samRes {
			s = append(s, id)
		}
		sort.Strings(c)
		sort.Strings(s)
		if !reflect.DeepEqual(c, s) {
			t.Errorf("CDK %v\nSAM %v", c, s)
		}
	})

	t.Run("plain resources", func(t *testing.T) {
		n := 0
		for id, r := range samRes {
			sr := r.(map[string]any)
			if strings.HasPrefix(sr["Type"].(string), "AWS::Serverless::") {
				continue
			}
			cr, ok := cdkRes[id].(map[string]any)
			if !ok {
				continue // reported by "logical IDs"
			}
			delete(cr, "Metadata")
			n++
			if !reflect.DeepEqual(cr, sr) {
				t.Errorf("%s differs:\nCDK %s\nSAM %s", id, js(cr), js(sr))
			}
		}
		if n < len(topo.Queues)+len(topo.Alarms)+2*len(topo.Functions)+1 {
			t.Errorf("only %d resources compared", n)
		}
	})

	t.Run("functions", func(t *testing.T) {
		for _, f := range topo.Functions {
			cp := cdkRes[f.LogicalID].(map[string]any)["Properties"].(map[string]any)
			sp := samRes[f.LogicalID].(map[string]any)["Properties"].(map[string]any)
			c, s := map[string]any{}, map[string]any{}
			for k, v := range cp {
				if k != "Code" {
					c[k] = v
				}
			}
			for k, v := range sp {
				switch k {
				case "CodeUri", "Events":
				case "Tracing": // SAM's shorthand for TracingConfig
					s["TracingConfig"] = map[string]any{"Mode": v}
				default:
					s[k] = v
				}
			}
			if !reflect.DeepEqual(c, s) {
				t.Errorf("%s differs:\nCDK %s\nSAM %s", f.LogicalID, js(c), js(s))
			}
		}
	})

	t.Run("queue triggers", func(t *testing.T) {
		type trig struct{ Queue, Batch, Types, Scaling string }
		cdkT, samT := map[string]trig{}, map[string]trig{}
		for id, r := range cdkRes {
			m := r.(map[string]any)
			if m["Type"] != "AWS::Lambda::EventSourceMapping" {
				continue
			}
			p := m["Properties"].(map[string]any)
			fn := p["FunctionName"].(map[string]any)["Ref"].(string)
			if id != fn+"Queue" {
				t.Errorf("mapping %s of %s: SAM would name it %sQueue", id, fn, fn)
			}
			cdkT[fn] = trig{js(p["EventSourceArn"]), js(p["BatchSize"]), js(p["FunctionResponseTypes"]), js(p["ScalingConfig"])}
		}
		for id, r := range samRes {
			ev, _ := r.(map[string]any)["Properties"].(map[string]any)["Events"].(map[string]any)
			for _, e := range ev {
				em := e.(map[string]any)
				if em["Type"] != "SQS" {
					continue
				}
				p := em["Properties"].(map[string]any)
				samT[id] = trig{js(p["Queue"]), js(p["BatchSize"]), js(p["FunctionResponseTypes"]), js(p["ScalingConfig"])}
			}
		}
		if len(cdkT) == 0 || !reflect.DeepEqual(cdkT, samT) {
			t.Errorf("CDK %v\nSAM %v", cdkT, samT)
		}
	})

	t.Run("routes", func(t *testing.T) {
		integ := map[string]string{} // integration ID -> function
		for id, r := range cdkRes {
			m := r.(map[string]any)
			if m["Type"] == "AWS::ApiGatewayV2::Integration" {
				uri := m["Properties"].(map[string]any)["IntegrationUri"].(map[string]any)["Fn::GetAtt"].([]any)
				integ[id] = uri[0].(string)
			}
		}
		var c, s []string
		for _, r := range cdkRes {
			m := r.(map[string]any)
			if m["Type"] != "AWS::ApiGatewayV2::Route" {
				continue
			}
			p := m["Properties"].(map[string]any)
			target := js(p["Target"])
			fn := "?"
			for id, f := range integ {
				if strings.Contains(target, `"`+id+`"`) {
					fn = f
				}
			}
			c = append(c, p["RouteKey"].(string)+" -> "+fn)
		}
		for id, r := range samRes {
			ev, _ := r.(map[string]any)["Properties"].(map[string]any)["Events"].(map[string]any)
			for name, e := range ev {
				em := e.(map[string]any)
				if em["Type"] != "HttpApi" {
					continue
				}
				p := em["Properties"].(map[string]any)
				if name != sam.RouteEventName(routeOf(p)) {
					t.Errorf("event %s", name)
				}
				s = append(s, p["Method"].(string)+" "+p["Path"].(string)+" -> "+id)
			}
		}
		sort.Strings(c)
		sort.Strings(s)
		if len(c) != len(topo.Routes) || !reflect.DeepEqual(c, s) {
			t.Errorf("CDK %v\nSAM %v", c, s)
		}
		cName := cdkRes["HttpApi"].(map[string]any)["Properties"].(map[string]any)["Name"]
		sProps := samRes["HttpApi"].(map[string]any)["Properties"].(map[string]any)
		if !reflect.DeepEqual(cName, sProps["Name"]) {
			t.Errorf("API name CDK %v SAM %v", cName, sProps["Name"])
		}
		// SAM sets the $default stage's throttling and access log on the HttpApi; the CDK
		// on the stage resource.
		stages := 0
		for _, r := range cdkRes {
			m := r.(map[string]any)
			if m["Type"] != "AWS::ApiGatewayV2::Stage" {
				continue
			}
			stages++
			p := m["Properties"].(map[string]any)
			for _, k := range []string{"AccessLogSettings", "DefaultRouteSettings"} {
				if p[k] == nil || !reflect.DeepEqual(p[k], sProps[k]) {
					t.Errorf("stage %s: CDK %s SAM %s", k, js(p[k]), js(sProps[k]))
				}
			}
		}
		if stages != 1 {
			t.Errorf("%d CDK stages", stages)
		}
	})

	t.Run("parameters conditions outputs", func(t *testing.T) {
		cp := cdk["Parameters"].(map[string]any)
		delete(cp, "BootstrapVersion") // the CDK's own, for its bootstrap stack
		// The CDK app's Stage default is the stage it synthesizes for (test here).
		cp["Stage"].(map[string]any)["Default"] = samT["Parameters"].(map[string]any)["Stage"].(map[string]any)["Default"]
		if !reflect.DeepEqual(cp, samT["Parameters"]) {
			t.Errorf("parameters:\nCDK %s\nSAM %s", js(cp), js(samT["Parameters"]))
		}
		if !reflect.DeepEqual(cdk["Conditions"], samT["Conditions"]) {
			t.Errorf("conditions:\nCDK %s\nSAM %s", js(cdk["Conditions"]), js(samT["Conditions"]))
		}
		co, so := cdk["Outputs"].(map[string]any), samT["Outputs"].(map[string]any)
		// The API URL is built differently (Fn::Join vs Fn::Sub) but names the same API.
		for _, o := range []map[string]any{co, so} {
			if !strings.Contains(js(o["ApiUrl"]), "HttpApi") {
				t.Errorf("ApiUrl %s", js(o["ApiUrl"]))
			}
			delete(o["ApiUrl"].(map[string]any), "Value")
		}
		if !reflect.DeepEqual(co, so) {
			t.Errorf("outputs:\nCDK %s\nSAM %s", js(co), js(so))
		}
	})
}

func routeOf(p map[string]any) topology.Route {
	return topology.Route{Method: p["Method"].(string), Path: p["Path"].(string)}
}
