package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	queuesqs "github.com/ponte-hub/ponte/internal/queue/sqs"
	"github.com/ponte-hub/ponte/internal/topology"
)

// One synthesis serves every test: starting the CDK's JavaScript runtime is the slow part.
var (
	topo     = topology.Default()
	tmpl     assertions.Template
	tmplJSON map[string]any
)

func TestMain(m *testing.M) {
	app := awscdk.NewApp(nil)
	st := New(app, "ponte-test", Props{
		Topology:     topo,
		DefaultStage: "test",
		// Tests do not need `make build`: every function gets the placeholder asset.
		AssetDir: func(topology.Function) string { return "../testdata/placeholder" },
	})
	tmpl = assertions.Template_FromStack(st, nil)
	b, err := json.Marshal(tmpl.ToJSON())
	if err == nil {
		err = json.Unmarshal(b, &tmplJSON)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// assert runs a CDK assertion, which panics on mismatch, as a test error.
func assert(t *testing.T, what string, fn func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	fn()
}

func subJSON(s string) map[string]any { return map[string]any{"Fn::Sub": topology.Sub(s)} }
func getAtt(id, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attr}}
}

func TestResourceCounts(t *testing.T) {
	queueTriggered := 0
	for _, f := range topo.Functions {
		if f.Trigger.Kind == topology.TriggerQueue {
			queueTriggered++
		}
	}
	cases := []struct {
		typ  string
		want int
	}{
		{"AWS::Lambda::Function", len(topo.Functions)},
		{"AWS::Logs::LogGroup", len(topo.Functions) + 1}, // and the API's access log
		{"AWS::CloudWatch::Dashboard", 1},
		{"AWS::IAM::Role", len(topo.Functions) + len(topo.Schedules)},
		{"AWS::IAM::Policy", 0}, // every statement is inline in its role
		{"AWS::SQS::Queue", len(topo.Queues)},
		{"AWS::Lambda::EventSourceMapping", queueTriggered},
		{"AWS::DynamoDB::Table", 1},
		{"AWS::ApiGatewayV2::Api", 1},
		{"AWS::ApiGatewayV2::Route", len(topo.Routes)},
		{"AWS::Scheduler::ScheduleGroup", 1},
		{"AWS::Scheduler::Schedule", len(topo.Schedules)},
		{"AWS::CloudWatch::Alarm", len(topo.Alarms)},
		{"AWS::SNS::Topic", 1},
		{"AWS::SNS::Subscription", 1},
		{"AWS::SecretsManager::Secret", 0}, // one per connection, created by ops (README)
	}
	for _, c := range cases {
		assert(t, c.typ, func() { tmpl.ResourceCountIs(jsii.String(c.typ), jsii.Number(float64(c.want))) })
	}
}

func TestFunctions(t *testing.T) {
	for _, f := range topo.Functions {
		assert(t, f.LogicalID, func() {
			tmpl.HasResource(jsii.String("AWS::Lambda::Function"), map[string]any{
				"Properties": map[string]any{
					"FunctionName":  subJSON(f.Name),
					"Runtime":       "provided.al2023",
					"Architectures": []any{"arm64"},
					"Handler":       "bootstrap",
					"MemorySize":    f.MemoryMB,
					"Timeout":       f.Timeout.Seconds(),
					"Role":          getAtt(f.LogicalID+"Role", "Arn"),
					"LoggingConfig": map[string]any{"LogGroup": map[string]any{"Ref": f.LogGroup.LogicalID}},
				},
			})
		})
		fn := resource(t, f.LogicalID)
		vars := fn["Properties"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)
		if len(vars) != len(f.Env) {
			t.Errorf("%s: %d variables, declared %d", f.LogicalID, len(vars), len(f.Env))
		}
		for _, e := range f.Env {
			if _, ok := vars[e.Name]; !ok {
				t.Errorf("%s: %s missing", f.LogicalID, e.Name)
			}
		}
		lg := resource(t, f.LogGroup.LogicalID)["Properties"].(map[string]any)
		if fmt.Sprint(lg["RetentionInDays"]) != fmt.Sprint(map[string]any{"Ref": topology.LogRetentionParam}) {
			t.Errorf("%s: retention %v", f.LogGroup.LogicalID, lg["RetentionInDays"])
		}
	}
}

func TestQueuesAndEventSourceMappings(t *testing.T) {
	for _, q := range topo.Queues {
		props := map[string]any{
			"QueueName":         subJSON(q.Name),
			"VisibilityTimeout": q.Visibility.Seconds(),
		}
		if q.FIFO {
			props["FifoQueue"] = true
		}
		if q.DLQ != "" {
			props["RedrivePolicy"] = map[string]any{"deadLetterTargetArn": getAtt(q.DLQ, "Arn"), "maxReceiveCount": q.MaxReceiveCount}
		}
		assert(t, q.LogicalID, func() {
			tmpl.HasResource(jsii.String("AWS::SQS::Queue"), map[string]any{"Properties": props})
		})
		if r := resource(t, q.LogicalID)["Properties"].(map[string]any); !q.FIFO && r["FifoQueue"] != nil {
			t.Errorf("%s: standard queue declared FIFO", q.LogicalID)
		}
	}
	for _, f := range topo.Functions {
		if f.Trigger.Kind != topology.TriggerQueue {
			continue
		}
		assert(t, f.LogicalID+" event source", func() {
			tmpl.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
				"EventSourceArn":        getAtt(f.Trigger.Queue, "Arn"),
				"FunctionName":          map[string]any{"Ref": f.LogicalID},
				"BatchSize":             f.Trigger.BatchSize,
				"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
			})
		})
	}
}

func TestTable(t *testing.T) {
	tb := topo.Table
	assert(t, "table", func() {
		tmpl.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"DeletionPolicy": "Retain",
			"Properties": map[string]any{
				"TableName":   subJSON(tb.Name),
				"BillingMode": "PAY_PER_REQUEST",
				"KeySchema": []any{
					map[string]any{"AttributeName": tb.PartitionKey, "KeyType": "HASH"},
					map[string]any{"AttributeName": tb.SortKey, "KeyType": "RANGE"},
				},
				"GlobalSecondaryIndexes": []any{map[string]any{
					"IndexName": tb.GSIs[0].Name,
					"KeySchema": []any{
						map[string]any{"AttributeName": tb.GSIs[0].PartitionKey, "KeyType": "HASH"},
						map[string]any{"AttributeName": tb.GSIs[0].SortKey, "KeyType": "RANGE"},
					},
					"Projection": map[string]any{"ProjectionType": "ALL"},
				}},
				"TimeToLiveSpecification":          map[string]any{"AttributeName": tb.TTLAttribute, "Enabled": true},
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			},
		})
	})
}

func TestRoutesScheduleAlarms(t *testing.T) {
	for _, r := range topo.Routes {
		assert(t, r.Key(), func() {
			tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), map[string]any{"RouteKey": r.Key()})
		})
	}
	// One integration per HTTP function, each reaching a function that serves routes.
	httpFns := map[string]bool{}
	for _, r := range topo.Routes {
		httpFns[r.Function] = true
	}
	integ := resources("AWS::ApiGatewayV2::Integration")
	if len(integ) != len(httpFns) {
		t.Errorf("%d integrations for %d HTTP functions", len(integ), len(httpFns))
	}
	for id, res := range integ {
		uri := res["Properties"].(map[string]any)["IntegrationUri"].(map[string]any)["Fn::GetAtt"].([]any)
		if !httpFns[fmt.Sprint(uri[0])] {
			t.Errorf("integration %s targets %v", id, uri)
		}
	}
	assert(t, "schedule group", func() {
		tmpl.HasResourceProperties(jsii.String("AWS::Scheduler::ScheduleGroup"), map[string]any{"Name": subJSON(topo.ScheduleGroup.Name)})
	})
	for _, s := range topo.Schedules {
		assert(t, s.LogicalID, func() {
			tmpl.HasResourceProperties(jsii.String("AWS::Scheduler::Schedule"), map[string]any{
				"ScheduleExpression": s.Expression,
				"GroupName":          map[string]any{"Ref": topo.ScheduleGroup.LogicalID},
				"Target": assertions.Match_ObjectLike(&map[string]any{
					"Arn":     getAtt(s.Function, "Arn"),
					"Input":   s.Input,
					"RoleArn": getAtt(s.RoleLogicalID, "Arn"),
				}),
			})
		})
		// The scheduler role may invoke that function only.
		role := resource(t, s.RoleLogicalID)
		stmts := statements(role)
		if len(stmts) != 1 || stmts[0] != (grant{"lambda:InvokeFunction", js(getAtt(s.Function, "Arn"))}) {
			t.Errorf("%s: %v", s.RoleLogicalID, stmts)
		}
	}
	for _, a := range topo.Alarms {
		props := resource(t, a.LogicalID)["Properties"].(map[string]any)
		if fmt.Sprint(props["AlarmName"]) != fmt.Sprint(subJSON(a.Name)) || props["Threshold"] != a.Threshold ||
			js(props["AlarmActions"]) != js([]any{map[string]any{"Ref": topology.AlarmTopic.LogicalID}}) {
			t.Errorf("%s: %s", a.LogicalID, js(props))
		}
		// Each metric the alarm watches is named with its namespace and dimensions.
		watched := js(props)
		for _, m := range a.Metrics {
			if !strings.Contains(watched, `"`+m.Name+`"`) || !strings.Contains(watched, `"`+m.Namespace+`"`) {
				t.Errorf("%s does not watch %s/%s: %s", a.LogicalID, m.Namespace, m.Name, watched)
			}
		}
	}
	// The HTTP API's stage: throttled, access-logged to its own log group.
	for id, st := range resources("AWS::ApiGatewayV2::Stage") {
		p := st["Properties"].(map[string]any)
		rs := p["DefaultRouteSettings"].(map[string]any)
		if rs["ThrottlingRateLimit"] != float64(topo.API.ThrottleRate) || rs["ThrottlingBurstLimit"] != float64(topo.API.ThrottleBurst) {
			t.Errorf("%s throttling %v", id, rs)
		}
		if js(p["AccessLogSettings"].(map[string]any)["DestinationArn"]) != js(getAtt(topo.API.AccessLog.LogicalID, "Arn")) {
			t.Errorf("%s access log %v", id, p["AccessLogSettings"])
		}
	}
	assert(t, "alarm e-mail", func() {
		tmpl.HasResource(jsii.String("AWS::SNS::Subscription"), map[string]any{
			"Condition":  topology.HasAlarmEmailCondition,
			"Properties": map[string]any{"Protocol": "email", "Endpoint": map[string]any{"Ref": topology.AlarmEmailParam}},
		})
	})
}

func TestParameters(t *testing.T) {
	for _, p := range []string{topology.StageParam, topology.AlarmEmailParam, topology.LogRetentionParam} {
		assert(t, p, func() { tmpl.HasParameter(jsii.String(p), map[string]any{}) })
	}
}

// grant is one (action, resource) pair.
type grant struct{ action, resource string }

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func statements(role map[string]any) []grant {
	var out []grant
	for _, p := range role["Properties"].(map[string]any)["Policies"].([]any) {
		for _, s := range p.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := s.(map[string]any)
			if st["Effect"] != "Allow" {
				continue
			}
			for _, a := range list(st["Action"]) {
				for _, r := range list(st["Resource"]) {
					out = append(out, grant{a.(string), js(r)})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].action+out[i].resource < out[j].action+out[j].resource })
	return out
}

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// Every function role grants exactly the declared statements, each on a named resource:
// its log group, the table, its queues, its platform's secrets. No "*", no managed policy.
func TestIAMScopedToNamedResources(t *testing.T) {
	secretArn := func(prefix string) map[string]any {
		return map[string]any{"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:" + topology.Sub(prefix) + "*"}
	}
	samRes := samTemplate(t)["Resources"].(map[string]any)
	for _, f := range topo.Functions {
		var want []grant
		// Queue statements come from what the function's code calls on each queue and
		// what the SQS adapter declares each call needs, not from the rendered statements.
		for _, u := range f.QueueUses {
			grants, unknown := queuesqs.GrantsFor(u.Methods...)
			if len(unknown) > 0 {
				t.Fatalf("%s: unknown queue methods %v", f.LogicalID, unknown)
			}
			if u.Consumer {
				grants = append(grants, queuesqs.ConsumerGrants...)
			}
			for _, g := range grants {
				id := u.Queue
				if g.On == queuesqs.OnDLQ {
					q, _ := topo.Queue(u.Queue)
					id = q.DLQ
				}
				want = append(want, grant{g.Action, js(getAtt(id, "Arn"))})
			}
		}
		for _, p := range f.Permissions {
			for _, a := range p.Actions {
				for _, r := range p.Resources {
					var v any
					switch r.Kind {
					case topology.RefQueueArn:
						continue // from QueueUses above
					case topology.RefTableArn:
						v = getAtt("Table", "Arn")
					case topology.RefTableIndexes:
						v = map[string]any{"Fn::Sub": "${Table.Arn}/index/*"}
					case topology.RefSecrets:
						v = secretArn(r.Value)
					case topology.RefLogGroupArn:
						v = getAtt(f.LogGroup.LogicalID, "Arn")
					case topology.RefAnyResource:
						v = "*"
					default:
						t.Fatalf("%s: resource kind %s", f.LogicalID, r.Kind)
					}
					want = append(want, grant{a, js(v)})
				}
			}
		}
		sort.Slice(want, func(i, j int) bool { return want[i].action+want[i].resource < want[j].action+want[j].resource })
		want = slices.Compact(want)
		role := resource(t, f.LogicalID+"Role")
		if got := statements(role); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s CDK role:\n got %v\nwant %v", f.LogicalID, got, want)
		}
		samRole := normal(samRes[f.LogicalID+"Role"]).(map[string]any)
		if got := statements(samRole); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s SAM role:\n got %v\nwant %v", f.LogicalID, got, want)
		}
	}
	for id, r := range resources("AWS::IAM::Role") {
		props := r["Properties"].(map[string]any)
		if props["ManagedPolicyArns"] != nil {
			t.Errorf("%s: managed policies %v", id, props["ManagedPolicyArns"])
		}
		for _, g := range statements(r) {
			// X-Ray's actions support no resource-level permissions; nothing else is on "*".
			if (g.resource == `"*"` && !slices.Contains(topology.XRayActions, g.action)) || strings.Contains(g.action, "*") {
				t.Errorf("%s: wildcard grant %v", id, g)
			}
		}
	}
}

func resource(t *testing.T, id string) map[string]any {
	t.Helper()
	r, ok := tmplJSON["Resources"].(map[string]any)[id].(map[string]any)
	if !ok {
		t.Fatalf("no resource %s", id)
	}
	return r
}

func resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tmplJSON["Resources"].(map[string]any) {
		if m := r.(map[string]any); m["Type"] == typ {
			out[id] = m
		}
	}
	return out
}
