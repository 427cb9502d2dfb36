package topology

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/platform/tray"
	"github.com/ponte-hub/ponte/internal/platforms"
	storedynamo "github.com/ponte-hub/ponte/internal/store/dynamodb"
)

// platformSets covers the registry as it is and as it grows: each set must yield a
// complete, self-consistent topology.
var platformSets = map[string][]string{
	"registry":  platforms.Names(),
	"none":      nil,
	"one":       {"tray"},
	"six":       {"merchantpro", "mercos", "nuvemshop", "shopify", "tray", "woocommerce"},
	"unordered": {"woocommerce", "tray"},
}

func TestEveryPlatformHasPushFunctionFIFOQueueAndDLQ(t *testing.T) {
	for name, ps := range platformSets {
		t.Run(name, func(t *testing.T) {
			topo := New(ps)
			for _, p := range ps {
				f, ok := topo.Function(PushFunctionID(p))
				if !ok {
					t.Fatalf("%s: no push function", p)
				}
				if f.CodeDir != "functions/push-"+p || f.Platform != p {
					t.Errorf("%s: code dir %q platform %q", p, f.CodeDir, f.Platform)
				}
				if f.Trigger != (Trigger{Kind: TriggerQueue, Queue: PushQueueID(p), BatchSize: 10, MaxConcurrency: ConsumerMaxConcurrency}) {
					t.Errorf("%s: trigger %+v", p, f.Trigger)
				}
				q, ok := topo.Queue(PushQueueID(p))
				if !ok || !q.FIFO || !q.HighThroughput || q.Name != "ponte-{stage}-push-"+p+".fifo" {
					t.Fatalf("%s: push queue %+v", p, q)
				}
				if q.DLQ != PushDLQID(p) || q.MaxReceiveCount != MaxReceiveCount {
					t.Errorf("%s: redrive %q x%d", p, q.DLQ, q.MaxReceiveCount)
				}
				dlq, ok := topo.Queue(q.DLQ)
				if !ok || !dlq.FIFO || dlq.DLQ != "" || dlq.Name != "ponte-{stage}-push-"+p+"-dlq.fifo" {
					t.Errorf("%s: dlq %+v", p, dlq)
				}
			}
			// Exactly: erp-api, fanout, reconcile, webhooks, orders, events, order-poll and
			// one push function per platform; changes, orders and events pairs plus one
			// pair per platform.
			if got, want := len(topo.Functions), 7+len(ps); got != want {
				t.Errorf("functions: %d, want %d", got, want)
			}
			if got, want := len(topo.Queues), 6+2*len(ps); got != want {
				t.Errorf("queues: %d, want %d", got, want)
			}
		})
	}
}

// Every declared function has its code: a platform without functions/push-<name>, or a
// new function without its main package, would deploy a function with no code.
func TestEveryFunctionHasItsCodeDir(t *testing.T) {
	root := repoRoot(t)
	for _, f := range Default().Functions {
		if f.CodeDir != "functions/"+f.Short {
			t.Errorf("%s: code dir %s, short name %s", f.LogicalID, f.CodeDir, f.Short)
		}
		if _, err := os.Stat(filepath.Join(root, f.CodeDir, "main.go")); err != nil {
			t.Errorf("%s: %v", f.LogicalID, err)
		}
	}
}

// Every function's environment is exactly what app.AWSConfigFromEnv needs: each declared
// variable is read into the field it is meant for, and no field is left empty.
func TestEnvFeedsAWSConfigFromEnv(t *testing.T) {
	topo := Default()
	for _, f := range topo.Functions {
		t.Run(f.Short, func(t *testing.T) {
			clearPonteEnv(t)
			sentinel := map[string]string{}
			for _, e := range f.Env {
				v := "sentinel-" + e.Name
				if e.Value.Kind == RefLiteral {
					v = WithStage(e.Value.Value, "test")
				}
				sentinel[e.Name] = v
				t.Setenv(e.Name, v)
			}
			if len(sentinel) != len(f.Env) {
				t.Fatalf("duplicate variables in %v", f.Env)
			}
			c := app.AWSConfigFromEnv()
			check := func(field, got, env string) {
				t.Helper()
				want, ok := sentinel[env]
				if !ok {
					t.Errorf("%s: %s not declared", field, env)
				} else if got != want {
					t.Errorf("%s = %q, want %q from %s", field, got, want, env)
				}
			}
			check("Table", c.Table, "PONTE_TABLE")
			check("ChangesQueueURL", c.ChangesQueueURL, "PONTE_CHANGES_QUEUE_URL")
			check("ChangesDLQURL", c.ChangesDLQURL, "PONTE_CHANGES_DLQ_URL")
			check("OrdersQueueURL", c.OrdersQueueURL, "PONTE_ORDERS_QUEUE_URL")
			check("OrdersDLQURL", c.OrdersDLQURL, "PONTE_ORDERS_DLQ_URL")
			check("EventsQueueURL", c.EventsQueueURL, "PONTE_EVENTS_QUEUE_URL")
			check("EventsDLQURL", c.EventsDLQURL, "PONTE_EVENTS_DLQ_URL")
			check("SecretsPrefix", c.SecretsPrefix, "PONTE_SECRETS_PREFIX")
			for _, p := range platforms.Names() {
				check("PushQueueURLs["+p+"]", c.PushQueueURLs[p], "PONTE_PUSH_QUEUE_URL_"+strings.ToUpper(p))
				check("PushDLQURLs["+p+"]", c.PushDLQURLs[p], "PONTE_PUSH_DLQ_URL_"+strings.ToUpper(p))
			}
			if c.Create || c.Endpoint != "" {
				t.Errorf("a deployed function must neither create resources nor use an endpoint override: %+v", c)
			}
			// The URL variables must point at the queue their name says.
			for _, e := range f.Env {
				if e.Value.Kind != RefQueueURL {
					continue
				}
				if _, ok := topo.Queue(e.Value.ID); !ok {
					t.Errorf("%s: unknown queue %s", e.Name, e.Value.ID)
				}
				wantDLQ := strings.Contains(e.Name, "_DLQ_")
				if gotDLQ := strings.HasSuffix(e.Value.ID, "DLQ"); gotDLQ != wantDLQ {
					t.Errorf("%s points at %s", e.Name, e.Value.ID)
				}
			}
		})
	}
}

func clearPonteEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PONTE_") {
			t.Setenv(k, "") // restored after the test
			os.Unsetenv(k)
		}
	}
}

// grant is one (action, resource) pair, the unit least privilege is judged by.
type grant struct{ action, resource string }

func grantsOf(f Function) []grant {
	var out []grant
	for _, p := range f.Permissions {
		for _, a := range p.Actions {
			for _, r := range p.Resources {
				res := string(r.Kind)
				if r.ID != "" {
					res += ":" + r.ID
				}
				if r.Value != "" {
					res += ":" + r.Value
				}
				out = append(out, grant{a, res})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].action+out[i].resource < out[j].action+out[j].resource
	})
	return slices.Compact(out)
}

// Each function's grants are exactly the ones its role in the flow needs, for a topology
// of two platforms: its own queues, the table, its platform's secrets, its log group.
func TestPermissionsNameOnlyTheFunctionsResources(t *testing.T) {
	topo := New([]string{"shopify", "tray"})
	table := func() []grant {
		var g []grant
		for _, a := range storedynamo.DataActions() {
			g = append(g, grant{a, "table-arn"}, grant{a, "table-indexes"})
		}
		return g
	}
	// Its log group, and X-Ray's two actions, which IAM cannot scope to a resource.
	logs := []grant{{"logs:CreateLogStream", "log-group-arn"}, {"logs:PutLogEvents", "log-group-arn"},
		{"xray:PutTelemetryRecords", "any"}, {"xray:PutTraceSegments", "any"}}
	on := func(id string, actions ...string) (g []grant) {
		for _, a := range actions {
			g = append(g, grant{"sqs:" + a, "queue-arn:" + id})
		}
		return g
	}
	send := func(ids ...string) (g []grant) {
		for _, id := range ids {
			g = append(g, on(id, "SendMessage")...)
		}
		return g
	}
	// Lambda's polling, the worker's Retry (visibility) and DeadLetter (copy, delete).
	consume := func(id, dlq string) []grant {
		return append(on(id, "ChangeMessageVisibility", "DeleteMessage", "GetQueueAttributes", "ReceiveMessage"), send(dlq)...)
	}
	// The operator's pages: Stats on both, ListDead and Redrive (peek, move back, delete).
	operate := func(pairs ...[2]string) (g []grant) {
		for _, p := range pairs {
			g = append(g, on(p[0], "GetQueueAttributes", "SendMessage")...)
			g = append(g, on(p[1], "ChangeMessageVisibility", "DeleteMessage", "GetQueueAttributes", "ReceiveMessage")...)
		}
		return g
	}
	secrets := func(write bool, ps ...string) (g []grant) {
		for _, p := range ps {
			r := "secrets:ponte/{stage}/" + p + "/"
			g = append(g, grant{"secretsmanager:GetSecretValue", r})
			if write {
				g = append(g, grant{"secretsmanager:PutSecretValue", r})
			}
		}
		return g
	}
	cases := []struct {
		fn   string
		want [][]grant
	}{
		{ErpAPIID, [][]grant{logs, table(), send(ChangesQueueID, OrdersQueueID, EventsQueueID), secrets(false, "shopify", "tray"),
			operate([2]string{ChangesQueueID, ChangesDLQID}, [2]string{OrdersQueueID, OrdersDLQID}, [2]string{EventsQueueID, EventsDLQID},
				[2]string{PushQueueID("shopify"), PushDLQID("shopify")}, [2]string{PushQueueID("tray"), PushDLQID("tray")})}},
		{FanoutID, [][]grant{logs, table(), consume(ChangesQueueID, ChangesDLQID), send(PushQueueID("shopify"), PushQueueID("tray"))}},
		{PushFunctionID("tray"), [][]grant{logs, table(), consume(PushQueueID("tray"), PushDLQID("tray")), secrets(true, "tray")}},
		{PushFunctionID("shopify"), [][]grant{logs, table(), consume(PushQueueID("shopify"), PushDLQID("shopify")), secrets(true, "shopify")}},
		{ReconcileID, [][]grant{logs, table(), send(PushQueueID("shopify"), PushQueueID("tray")), secrets(true, "shopify", "tray")}},
		{WebhooksID, [][]grant{logs, table(), send(OrdersQueueID), secrets(false, "shopify", "tray")}},
		{OrdersID, [][]grant{logs, table(), consume(OrdersQueueID, OrdersDLQID),
			send(OrdersQueueID, ChangesQueueID, EventsQueueID), secrets(true, "shopify", "tray")}},
		{EventsID, [][]grant{logs, table(), consume(EventsQueueID, EventsDLQID),
			send(OrdersQueueID, ChangesQueueID, EventsQueueID), secrets(false, "webhooks")}},
		{OrderPollID, [][]grant{logs, table(), send(OrdersQueueID), on(OrdersQueueID, "GetQueueAttributes"), on(OrdersDLQID, "GetQueueAttributes"),
			secrets(true, "shopify", "tray")}},
	}
	if len(cases) != len(topo.Functions) {
		t.Fatalf("%d cases for %d functions", len(cases), len(topo.Functions))
	}
	for _, c := range cases {
		t.Run(c.fn, func(t *testing.T) {
			f, ok := topo.Function(c.fn)
			if !ok {
				t.Fatal("missing")
			}
			want := grantsOf(Function{Permissions: flatten(c.want)})
			got := grantsOf(f)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("grants:\n got %v\nwant %v", got, want)
			}
			for _, p := range f.Permissions {
				for _, a := range p.Actions {
					if strings.Contains(a, "*") {
						t.Errorf("wildcard action %s", a)
					}
				}
				for _, r := range p.Resources {
					if r.Kind == RefLiteral {
						t.Errorf("literal resource %q: resources must be named", r.Value)
					}
					if r.Kind == RefAnyResource && !slices.Equal(p.Actions, XRayActions) {
						t.Errorf("%v on any resource: only X-Ray's actions may be", p.Actions)
					}
				}
			}
		})
	}
}

func flatten(groups [][]grant) []Permission {
	var out []Permission
	for _, g := range groups {
		for _, x := range g {
			p := Permission{Actions: []string{x.action}}
			kind, rest, _ := strings.Cut(x.resource, ":")
			r := Ref{Kind: RefKind(kind)}
			switch r.Kind {
			case RefQueueArn:
				r.ID = rest
			case RefSecrets:
				r.Value = rest
			}
			p.Resources = []Ref{r}
			out = append(out, p)
		}
	}
	return out
}

func TestQueueSettingsMatchTheApp(t *testing.T) {
	if QueueVisibility != app.AWSVisibility || MaxReceiveCount != app.AWSMaxReceiveCount {
		t.Fatalf("topology %v x%d, app %v x%d", QueueVisibility, MaxReceiveCount, app.AWSVisibility, app.AWSMaxReceiveCount)
	}
	topo := Default()
	for _, q := range topo.Queues {
		if q.FIFO != strings.HasSuffix(q.Name, ".fifo") {
			t.Errorf("%s: FIFO %v but name %s", q.LogicalID, q.FIFO, q.Name)
		}
		if q.DLQ != "" {
			dlq, ok := topo.Queue(q.DLQ)
			if !ok || dlq.FIFO != q.FIFO {
				t.Errorf("%s: DLQ %q must exist and share the queue type (SQS requires it)", q.LogicalID, q.DLQ)
			}
			if q.MaxReceiveCount < 5 {
				t.Errorf("%s: maxReceiveCount %d < 5 moves throttled messages to the DLQ", q.LogicalID, q.MaxReceiveCount)
			}
		}
	}
	// A function that calls platforms holds one call at the connectors' usual 10 s
	// timeout plus the reserve its handler keeps for recording and settling.
	for _, id := range []string{ErpAPIID, OrdersID, PushFunctionID("tray")} {
		f, _ := topo.Function(id)
		if f.Timeout <= tray.DefaultTimeout+app.DeadlineReserve {
			t.Errorf("%s: timeout %v leaves no room after a %v platform call and the %v reserve", id, f.Timeout, tray.DefaultTimeout, app.DeadlineReserve)
		}
	}
	// Lambda rejects an SQS trigger whose function may run longer than the visibility.
	for _, f := range topo.Functions {
		if f.Trigger.Kind != TriggerQueue {
			continue
		}
		q, _ := topo.Queue(f.Trigger.Queue)
		if 6*f.Timeout > q.Visibility {
			t.Errorf("%s: timeout %v vs visibility %v", f.LogicalID, f.Timeout, q.Visibility)
		}
	}
}

func TestReferencesResolve(t *testing.T) {
	topo := Default()
	ids := map[string]bool{}
	add := func(id string) {
		if ids[id] {
			t.Errorf("duplicate logical ID %s", id)
		}
		ids[id] = true
	}
	add(topo.Table.LogicalID)
	add(topo.ScheduleGroup.LogicalID)
	add(AlarmTopic.LogicalID)
	for _, q := range topo.Queues {
		add(q.LogicalID)
	}
	for _, f := range topo.Functions {
		add(f.LogicalID)
		add(f.LogGroup.LogicalID)
		for _, p := range f.Permissions {
			for _, r := range p.Resources {
				if r.Kind == RefQueueArn {
					if _, ok := topo.Queue(r.ID); !ok {
						t.Errorf("%s: permission on unknown queue %s", f.LogicalID, r.ID)
					}
				}
			}
		}
	}
	for _, s := range topo.Schedules {
		add(s.LogicalID)
		if f, ok := topo.Function(s.Function); !ok || f.Trigger.Kind != TriggerSchedule {
			t.Errorf("schedule %s targets %s", s.LogicalID, s.Function)
		}
	}
	for _, a := range topo.Alarms {
		add(a.LogicalID)
	}
	routes := map[string]bool{}
	for _, r := range topo.Routes {
		if routes[r.Key()] {
			t.Errorf("duplicate route %s", r.Key())
		}
		routes[r.Key()] = true
		if f, ok := topo.Function(r.Function); !ok || f.Trigger.Kind != TriggerHTTP {
			t.Errorf("route %s -> %s", r.Key(), r.Function)
		}
	}
	for _, want := range []string{"POST /v1/erp/changes", "GET /v1/admin/connections/{id}/skus/{sku}", "GET /healthz",
		"POST /v1/webhooks/{platform}/{connection}", "GET /v1/erp/orders", "GET /v1/erp/orders/{id}",
		"POST /v1/erp/orders/{id}/ack", "GET /v1/erp/purchase-needs"} {
		if !routes[want] {
			t.Errorf("route %s missing", want)
		}
	}
	// Per DLQ its depth; per work queue its oldest message's age and its retries; per
	// function errors and throttles; the table's errors and throttles; the API's 5xx.
	want := map[AlarmKind]int{AlarmAPI5xx: 1, AlarmTableErrors: 1, AlarmTableThrottles: 1,
		AlarmFunctionErrors: len(topo.Functions), AlarmFunctionThrottles: len(topo.Functions)}
	for _, q := range topo.Queues {
		if q.DLQ == "" {
			want[AlarmDLQDepth]++
		} else {
			want[AlarmQueueAge]++
			want[AlarmQueueRetries]++
		}
	}
	got := map[AlarmKind]int{}
	for _, a := range topo.Alarms {
		got[a.Kind]++
		if len(a.Metrics) == 0 || len(a.Metrics) > 9 || (len(a.Metrics) > 1) != (a.Expression != "") {
			t.Errorf("%s: %d metrics, expression %q", a.LogicalID, len(a.Metrics), a.Expression)
		}
		for _, m := range a.Metrics {
			for _, d := range m.Dimensions {
				switch d.Value.Kind {
				case RefQueueName:
					if _, ok := topo.Queue(d.Value.ID); !ok {
						t.Errorf("%s: unknown queue %s", a.LogicalID, d.Value.ID)
					}
				case RefFunctionName:
					if _, ok := topo.Function(d.Value.ID); !ok {
						t.Errorf("%s: unknown function %s", a.LogicalID, d.Value.ID)
					}
				}
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("alarms by kind %v, want %v", got, want)
	}
}

// The declared table is the one internal/store/dynamodb creates: read from its source,
// since CreateTable builds its input inline.
func TestTableMatchesCreateTableSource(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "internal", "store", "dynamodb")
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	var strArgs [][]string // arguments of calls to str(...) and key(...) inside CreateTable
	for _, pkg := range pkgs {
		for _, file := range pkg.Files {
			ast.Inspect(file, func(n ast.Node) bool {
				if vs, ok := n.(*ast.ValueSpec); ok {
					for i, name := range vs.Names {
						if i < len(vs.Values) {
							if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								consts[name.Name], _ = strconv.Unquote(lit.Value)
							}
						}
					}
				}
				fd, ok := n.(*ast.FuncDecl)
				if !ok || fd.Name.Name != "CreateTable" {
					return true
				}
				ast.Inspect(fd.Body, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok {
						return true
					}
					if id, ok := call.Fun.(*ast.Ident); ok && (id.Name == "str" || id.Name == "key") {
						var args []string
						for _, a := range call.Args {
							if lit, ok := a.(*ast.BasicLit); ok {
								s, _ := strconv.Unquote(lit.Value)
								args = append(args, s)
							}
						}
						strArgs = append(strArgs, append([]string{id.Name}, args...))
					}
					return true
				})
				return false
			})
		}
	}
	tbl := Default().Table
	wantCalls := [][]string{
		{"str", tbl.PartitionKey}, {"str", tbl.SortKey},
		{"str", tbl.GSIs[0].PartitionKey}, {"str", tbl.GSIs[0].SortKey},
		{"key", tbl.PartitionKey, tbl.SortKey}, {"key", tbl.GSIs[0].PartitionKey, tbl.GSIs[0].SortKey},
	}
	if fmt.Sprint(sortedCalls(strArgs)) != fmt.Sprint(sortedCalls(wantCalls)) {
		t.Errorf("CreateTable key calls %v, declaration %v", strArgs, wantCalls)
	}
	if len(tbl.GSIs) != 1 || consts["gsi1"] != tbl.GSIs[0].Name {
		t.Errorf("GSI: code %q, declaration %+v", consts["gsi1"], tbl.GSIs)
	}
	if consts["attrExpiresAt"] != tbl.TTLAttribute {
		t.Errorf("TTL: code %q, declaration %q", consts["attrExpiresAt"], tbl.TTLAttribute)
	}
}

func sortedCalls(c [][]string) []string {
	var out []string
	for _, x := range c {
		out = append(out, strings.Join(x, ","))
	}
	sort.Strings(out)
	return out
}

// And on a real DynamoDB wire API (moto, started by scripts/test.sh): the table
// CreateTable makes has the declared keys, index and TTL.
func TestTableMatchesCreateTableOnEmulator(t *testing.T) {
	endpoint := os.Getenv("PONTE_AWS_ENDPOINT")
	if endpoint == "" {
		if os.Getenv("PONTE_REQUIRE_AWS") == "1" {
			t.Fatal("PONTE_AWS_ENDPOINT unset")
		}
		t.Skip("no AWS emulator (PONTE_AWS_ENDPOINT)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	if err != nil {
		t.Fatal(err)
	}
	c := awsdynamodb.NewFromConfig(cfg, func(o *awsdynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	name := fmt.Sprintf("topology-%d", time.Now().UnixNano())
	if err := storedynamo.CreateTable(ctx, c, name); err != nil {
		t.Fatal(err)
	}
	defer c.DeleteTable(context.Background(), &awsdynamodb.DeleteTableInput{TableName: aws.String(name)})
	d, err := c.DescribeTable(ctx, &awsdynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	tbl := Default().Table
	got := []string{}
	for _, k := range d.Table.KeySchema {
		got = append(got, aws.ToString(k.AttributeName)+"/"+string(k.KeyType))
	}
	if want := []string{tbl.PartitionKey + "/HASH", tbl.SortKey + "/RANGE"}; !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	if len(d.Table.GlobalSecondaryIndexes) != len(tbl.GSIs) {
		t.Fatalf("GSIs %d, want %d", len(d.Table.GlobalSecondaryIndexes), len(tbl.GSIs))
	}
	for i, g := range d.Table.GlobalSecondaryIndexes {
		want := tbl.GSIs[i]
		var ks []string
		for _, k := range g.KeySchema {
			ks = append(ks, aws.ToString(k.AttributeName))
		}
		if aws.ToString(g.IndexName) != want.Name || !slices.Equal(ks, []string{want.PartitionKey, want.SortKey}) ||
			g.Projection == nil || g.Projection.ProjectionType != "ALL" {
			t.Errorf("GSI %s %v, want %+v", aws.ToString(g.IndexName), ks, want)
		}
	}
	ttl, err := c.DescribeTimeToLive(ctx, &awsdynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(ttl.TimeToLiveDescription.AttributeName); got != tbl.TTLAttribute {
		t.Errorf("TTL attribute %q, want %q", got, tbl.TTLAttribute)
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Concurrency: the HTTP functions have their own reserved share; every queue consumer
// is capped by its event source (SQS allows 2 to 1000), so a bulk import cannot starve
// the APIs; every function is traced.
func TestConcurrencyAndTracing(t *testing.T) {
	for _, f := range Default().Functions {
		switch f.Trigger.Kind {
		case TriggerHTTP:
			if f.ReservedConcurrency < 1 {
				t.Errorf("%s: no reserved concurrency", f.LogicalID)
			}
		case TriggerQueue:
			if m := f.Trigger.MaxConcurrency; m < 2 || m > 1000 {
				t.Errorf("%s: event source maximum concurrency %d", f.LogicalID, m)
			}
		}
		if !f.Tracing {
			t.Errorf("%s: not traced", f.LogicalID)
		}
	}
}
