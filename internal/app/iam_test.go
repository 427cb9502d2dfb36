package app_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/smithy-go/middleware"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/awstrace"
	"github.com/ponte-hub/ponte/internal/queue"
	queuesqs "github.com/ponte-hub/ponte/internal/queue/sqs"
	storedynamo "github.com/ponte-hub/ponte/internal/store/dynamodb"
	"github.com/ponte-hub/ponte/internal/topology"
)

// IAM as AWS would judge it: the AWS hub records every SDK call, each handler runs with
// its function's short name on the context (as), and checkCallsGranted holds every call
// to the statements topology gives that function's role, the statements the CDK stack
// and the SAM template are rendered from (infra's tests hold them equal). A call the
// role lacks is the AccessDenied the function would get on AWS.

// openAWSRecorded opens an AWS hub whose SDK calls are recorded.
func openAWSRecorded(t *testing.T) (*app.Hub, *awstrace.Recorder, string) {
	t.Helper()
	rec := &awstrace.Recorder{}
	hub, name := openAWSWith(t, []func(*middleware.Stack) error{rec.Middleware})
	return hub, rec, name
}

// as labels every AWS call a handler makes with the function it runs as.
func as[E, R any](function string, f func(context.Context, E) (R, error)) func(context.Context, E) (R, error) {
	return func(ctx context.Context, ev E) (R, error) { return f(awstrace.WithCaller(ctx, function), ev) }
}

// apiRequest is an API Gateway HTTP API event for the erp-api function, authorised with
// the demo tenant's key (the operator's key when the tenant has none).
func apiRequest(t *testing.T, method, path, body string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	ev := loadEvent[events.APIGatewayV2HTTPRequest](t, "erp-api/get-sku-view.json")
	u, err := url.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	ev.RawPath, ev.RawQueryString = u.Path, u.RawQuery
	ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = method, u.Path
	ev.Headers["authorization"] = "Bearer " + demoKey
	ev.Headers["x-request-id"] = "ops-" + strings.ToLower(method) + "-" + strings.ReplaceAll(strings.Trim(u.Path, "/"), "/", "-")
	ev.Body, ev.IsBase64Encoded = body, false
	if body != "" {
		ev.Headers["content-type"] = "application/json"
	}
	return ev
}

// The operator's queue pages on AWS: the counters of every queue, the failures and a
// retry, each call granted to erp-api's role (issue 11: they were AccessDenied).
func TestOperatorPagesGrantedOnAWS(t *testing.T) {
	hub, calls, name := openAWSRecorded(t)
	t.Cleanup(func() { checkCallsGranted(t, topology.Default(), name, calls.Calls(), "erp-api") })
	seedDemo(t, hub)
	ctx := context.Background()
	// A dead order message of demo-tray-1, as a failed delivery leaves it.
	body := `{"kind":"delivery","tenant":"demo","connection":"` + demoConn + `","delivery":"sha256:00"}`
	if err := hub.OrderQueue.Send(ctx, queue.OutMessage{Body: []byte(body)}); err != nil {
		t.Fatal(err)
	}
	msg := receivePush(t, hub.OrderQueue)
	if err := hub.OrderQueue.DeadLetter(ctx, msg, "test: delivery not stored"); err != nil {
		t.Fatal(err)
	}
	runOperatorPages(t, hub)
}

// runOperatorPages drives the operator's queue pages through the erp-api handler, after
// runOrderFunctions left a dead order message of demo-tray-1: every queue's counters,
// the failures, and a retry that moves the dead message back.
func runOperatorPages(t *testing.T, hub *app.Hub) {
	ctx := context.Background()
	httpFn := as("erp-api", hub.HTTPFunction())
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/admin/queues", ""},
		{"GET", "/v1/admin/failures", ""},
		{"POST", "/v1/admin/failures/retry", `{"connection":"` + demoConn + `"}`},
	} {
		resp, err := httpFn(ctx, apiRequest(t, c.method, c.path, c.body))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s (%v)", c.method, c.path, resp.StatusCode, resp.Body, err)
		}
		if c.method == "POST" {
			var out struct{ Moved int }
			if err := json.Unmarshal([]byte(resp.Body), &out); err != nil || out.Moved < 1 {
				t.Fatalf("retry moved nothing: %s (%v)", resp.Body, err)
			}
		}
	}
	if back := drain(t, hub.OrderQueue); len(back) != 1 {
		t.Fatalf("orders queue holds %d messages after the retry, want the one moved back", len(back))
	}
}

// checkCallsGranted fails for every labelled call the function's role does not grant.
// name is what the test hub's resources start with where the deployment's say
// "ponte-{stage}" (queues, table) and "ponte/{stage}/" (secrets).
// Each function in ran must have made at least one call (else the check proved nothing).
func checkCallsGranted(t *testing.T, topo topology.Topology, name string, calls []awstrace.Call, ran ...string) {
	t.Helper()
	physical := func(deployed string) string {
		return strings.Replace(strings.Replace(deployed, "ponte/{stage}/", name+"/", 1), "ponte-{stage}", name, 1)
	}
	checked := map[string]int{}
	for _, c := range calls {
		if c.Caller == "" {
			continue // the test's own setup and checks
		}
		f, ok := functionByShort(topo, c.Caller)
		if !ok {
			t.Errorf("calls labelled %q, which is no deployed function", c.Caller)
			continue
		}
		var actions []string
		switch c.Service {
		case "SQS":
			a, ok := queuesqs.OperationAction(c.Operation)
			if !ok {
				t.Errorf("%s: SQS %s has no IAM row in internal/queue/sqs", c.Caller, c.Operation)
				continue
			}
			actions = []string{a}
		case "DynamoDB":
			if actions, ok = storedynamo.OperationActions(c.Operation); !ok {
				t.Errorf("%s: DynamoDB %s has no IAM row in internal/store/dynamodb", c.Caller, c.Operation)
				continue
			}
		case "Secrets Manager":
			actions = []string{"secretsmanager:" + c.Operation}
		default:
			t.Errorf("%s: call to %s %s, a service no role grants", c.Caller, c.Service, c.Operation)
			continue
		}
		for _, a := range actions {
			checked[c.Caller]++
			if !granted(topo, f, a, c, physical) {
				t.Errorf("%s role does not grant %s on %s (%s %s): AccessDenied on AWS", f.Short, a, c.Resource, c.Service, c.Operation)
			}
		}
	}
	if t.Failed() {
		return // a flow stopped early: some functions never ran
	}
	for _, fn := range ran {
		if checked[fn] == 0 {
			t.Errorf("no AWS call recorded for %s: the check proved nothing for it", fn)
		}
	}
}

func functionByShort(topo topology.Topology, short string) (topology.Function, bool) {
	for _, f := range topo.Functions {
		if f.Short == short {
			return f, true
		}
	}
	return topology.Function{}, false
}

// granted reports whether one of f's statements allows action on the call's resource.
func granted(topo topology.Topology, f topology.Function, action string, c awstrace.Call, physical func(string) string) bool {
	for _, p := range f.Permissions {
		if !contains(p.Actions, action) {
			continue
		}
		for _, r := range p.Resources {
			switch r.Kind {
			case topology.RefQueueArn:
				q, ok := topo.Queue(r.ID)
				if ok && c.Service == "SQS" && c.Resource[strings.LastIndex(c.Resource, "/")+1:] == physical(q.Name) {
					return true
				}
			case topology.RefTableArn, topology.RefTableIndexes:
				// Batch and transaction calls name their table inside the request.
				if c.Service == "DynamoDB" && (c.Resource == "" || c.Resource == physical(topo.Table.Name)) {
					return true
				}
			case topology.RefSecrets:
				if c.Service == "Secrets Manager" && strings.HasPrefix(c.Resource, physical(r.Value)) {
					return true
				}
			}
		}
	}
	return false
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
