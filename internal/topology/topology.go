// Package topology declares Ponte's AWS deployment once: the functions (code, trigger,
// memory, timeout, environment, permissions), the queues, the table, the HTTP routes, the
// reconciliation schedule and the alarms. Both deploy paths render from it: the CDK app in
// infra/ and the SAM template that infra/cmd/samgen writes to template.yaml, so the two
// cannot drift apart (infra's parity test compares what they produce).
//
// It is plain data with no CDK import, so the main module's tests can check it against the
// code it deploys (the environment app.AWSConfigFromEnv reads, the table CreateTable makes).
//
// Physical names carry the stage as the placeholder {stage}; renderers turn it into the
// CloudFormation parameter Stage (Fn::Sub "${Stage}").
package topology

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ponte-hub/ponte/internal/platforms"
	queuesqs "github.com/ponte-hub/ponte/internal/queue/sqs"
	storedynamo "github.com/ponte-hub/ponte/internal/store/dynamodb"
)

// Deploy-wide constants shared by every function.
const (
	Runtime      = "provided.al2023"
	Architecture = "arm64"
	// Handler is the executable's name inside the zip; provided.* runtimes run ./bootstrap.
	Handler = "bootstrap"
	// StageParam, AlarmEmailParam and LogRetentionParam are the operator's parameters, with
	// the same names in the CDK and the SAM template.
	StageParam        = "Stage"
	AlarmEmailParam   = "AlarmEmail"
	LogRetentionParam = "LogRetentionDays"
	// SecretsPrefix is where connection credentials live: one secret per connection named
	// SecretsPrefix + "<platform>/<connection>". The platform segment is what lets each
	// push function read only its own platform's secrets.
	SecretsPrefix = "ponte/{stage}/"
	// HasAlarmEmailCondition guards the e-mail subscription (an empty AlarmEmail subscribes nobody).
	HasAlarmEmailCondition = "HasAlarmEmail"
	AlarmSubscriptionID    = "AlarmEmailSubscription"
	// PolicyName names every role's one inline policy.
	PolicyName = "ponte"
	// QueueEventName suffixes a queue-triggered function's event source mapping logical ID
	// (SAM names it function ID + event name, so the CDK uses the same).
	QueueEventName = "Queue"
)

// SecretsArnPattern is the Fn::Sub ARN pattern of every secret whose name starts with
// prefix; Secrets Manager appends "-XXXXXX" to a secret's name in its ARN, hence the "*".
func SecretsArnPattern(prefix string) string {
	return "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:" + Sub(prefix) + "*"
}

// OutputID names the stack output carrying an environment variable's value:
// PONTE_PUSH_QUEUE_URL_TRAY -> PontePushQueueUrlTray.
func OutputID(env string) string { return camel(strings.ToLower(env)) }

// Parameter is an operator-set deploy parameter.
type Parameter struct {
	Name        string
	Type        string // "String" or "Number"
	Default     string
	Description string
	Allowed     []string
	Pattern     string
}

// Topology is the whole deployment.
type Topology struct {
	Parameters    []Parameter
	Table         Table
	API           HTTPAPI
	Dashboard     Named
	Queues        []Queue
	Functions     []Function
	Routes        []Route
	ScheduleGroup Named
	Schedules     []Schedule
	Alarms        []Alarm
}

// Named is a resource with a CloudFormation logical ID and a physical name.
type Named struct {
	LogicalID string
	Name      string // may contain {stage}
}

// Table is the DynamoDB single table. Attribute names match internal/store/dynamodb.
type Table struct {
	Named
	PartitionKey string
	SortKey      string
	GSIs         []GSI
	TTLAttribute string
	// PointInTimeRecovery keeps 35 days of restorable history: the table is the system
	// of record for versions, desired and pushed states, and raw webhook deliveries.
	PointInTimeRecovery bool
	// DeletionProtection refuses DeleteTable (console, CLI or a replaced stack) until an
	// operator turns it off: the Retain policy alone does not stop a manual delete.
	DeletionProtection bool
}

// HTTPAPI is the API Gateway HTTP API and its $default stage.
type HTTPAPI struct {
	Named
	// ThrottleRate (requests per second, steady) and ThrottleBurst bound every route of
	// the stage, so a runaway client gets 429s from API Gateway before it can use up the
	// functions' reserved concurrency.
	ThrottleRate  int
	ThrottleBurst int
	// AccessLog is the log group of the stage's access log, one JSON line per request
	// in AccessLogFormat.
	AccessLog       Named
	AccessLogFormat string
}

// GSI is a global secondary index projecting all attributes, string keys.
type GSI struct {
	Name         string
	PartitionKey string
	SortKey      string
}

// Queue is an SQS queue; a work queue names its dead-letter queue.
type Queue struct {
	Named
	FIFO       bool
	Visibility time.Duration
	Retention  time.Duration
	// DLQ is the LogicalID of the dead-letter queue, empty on a DLQ itself.
	DLQ             string
	MaxReceiveCount int
	// HighThroughput is FIFO high-throughput mode: deduplication and the throughput
	// quota per message group (each store its own), not per queue.
	HighThroughput bool
}

// TriggerKind says what invokes a function.
type TriggerKind string

const (
	TriggerHTTP     TriggerKind = "http"
	TriggerQueue    TriggerKind = "sqs"
	TriggerSchedule TriggerKind = "schedule"
)

// Trigger is what invokes a function. Queue triggers always report batch item failures
// (the workers answer events.SQSEventResponse).
type Trigger struct {
	Kind TriggerKind
	// Queue is the LogicalID of the consumed queue (TriggerQueue).
	Queue     string
	BatchSize int
	// MaxConcurrency caps the concurrent invocations the event source mapping makes (SQS
	// maximum concurrency, 2 to 1000), so a bulk import cannot take the account's
	// concurrency from the HTTP functions.
	MaxConcurrency int
}

// RefKind is what an environment value or a permission's resource points at.
type RefKind string

const (
	RefLiteral      RefKind = "literal"       // Value as is ({stage} substituted)
	RefTableName    RefKind = "table-name"    // the table's name
	RefTableArn     RefKind = "table-arn"     // the table's ARN
	RefTableIndexes RefKind = "table-indexes" // every index of the table (ARN + "/index/*")
	RefQueueURL     RefKind = "queue-url"     // URL of queue ID
	RefQueueArn     RefKind = "queue-arn"     // ARN of queue ID
	RefSecrets      RefKind = "secrets"       // secrets whose names start with Value ({stage} substituted)
	RefLogGroupArn  RefKind = "log-group-arn" // the function's own log group
	// RefAnyResource is "*", allowed only for actions IAM cannot scope to a resource
	// (XRayActions); tests refuse it anywhere else.
	RefAnyResource RefKind = "any"
	// Names and ids for metric dimensions.
	RefQueueName    RefKind = "queue-name"    // QueueName of queue ID
	RefFunctionName RefKind = "function-name" // name of function ID
	RefAPIID        RefKind = "api-id"        // the HTTP API's id
)

// Ref points at a value or a resource.
type Ref struct {
	Kind  RefKind
	ID    string // queue LogicalID for queue refs
	Value string // literal value or secrets name prefix
}

// EnvVar is one environment variable of a function.
type EnvVar struct {
	Name  string
	Value Ref
}

// Permission is one IAM statement: Allow Actions on Resources.
type Permission struct {
	Actions   []string
	Resources []Ref
}

// QueueUse is what a function's code does with one queue pair: the methods of the queue
// port it calls (internal/queue/sqs.MethodGrants turns each into IAM actions on the queue
// or its DLQ), and whether Lambda polls the queue for it (the event source mapping's own
// actions, sqs.ConsumerGrants).
type QueueUse struct {
	Queue    string // LogicalID of the work queue
	Methods  []string
	Consumer bool
}

// Function is one Lambda function.
type Function struct {
	Named
	// CodeDir holds the function's main package; `make build` writes build/<Name>/bootstrap.
	CodeDir string
	// Short is the function's short name (erp-api, push-tray): the code and build dir name.
	Short    string
	MemoryMB int
	Timeout  time.Duration
	Trigger  Trigger
	Env      []EnvVar
	// QueueUses are the queue-port calls the function's code makes; with the table and
	// secrets statements they are all its role grants. Permissions is derived from them.
	QueueUses []QueueUse
	// Permissions are the function's only IAM statements: nothing else is granted.
	Permissions []Permission
	// LogGroup is the function's log group, created by the stack with the operator's retention.
	LogGroup Named
	// Platform is set on push functions.
	Platform    string
	Description string
	// ReservedConcurrency is set aside for this function alone (and caps it); 0 reserves
	// nothing. The HTTP functions get it so queue consumers can never starve them.
	ReservedConcurrency int
	// Tracing turns on X-Ray active tracing (its segments are written with XRayActions).
	Tracing bool
}

// Route is an HTTP API route served by a function.
type Route struct {
	Method   string // GET, POST or ANY
	Path     string
	Function string // LogicalID
	// Why documents routes that are declared ahead of the code serving them.
	Why string
}

// Key is the API Gateway route key, "GET /healthz".
func (r Route) Key() string { return r.Method + " " + r.Path }

// Schedule is an EventBridge Scheduler schedule invoking a function.
type Schedule struct {
	Named
	Expression string
	Function   string // LogicalID
	Input      string // JSON payload
	// RoleLogicalID is the role Scheduler assumes to invoke the function (lambda:InvokeFunction on it only).
	RoleLogicalID string
	// RetryAttempts and MaxEventAge bound Scheduler's retries of a failed invocation:
	// a reconciliation older than MaxEventAge is dropped, the next one is due soon anyway.
	RetryAttempts int
	MaxEventAge   time.Duration
}

// AlarmKind says what an alarm watches; infra/README.md says what to do for each.
type AlarmKind string

const (
	// AlarmDLQDepth fires when a dead-letter queue holds any message: something failed
	// MaxReceiveCount times (or was dead-lettered outright) and needs an operator.
	AlarmDLQDepth AlarmKind = "dlq-depth"
	// AlarmFunctionErrors fires when a function invocation fails (crash, timeout, init error).
	AlarmFunctionErrors AlarmKind = "function-errors"
	// AlarmFunctionThrottles fires when Lambda refused invocations for want of concurrency.
	AlarmFunctionThrottles AlarmKind = "function-throttles"
	// AlarmQueueAge fires when a work queue's oldest message waited too long: consumers
	// are behind, failing, or throttled by the event source's maximum concurrency.
	AlarmQueueAge AlarmKind = "queue-age"
	// AlarmQueueRetries fires when messages keep coming back for retries: the workers'
	// own metric (worker.RetryMetric), since a retry is not a failed invocation.
	AlarmQueueRetries AlarmKind = "queue-retries"
	// AlarmTableErrors fires on DynamoDB system errors (HTTP 500s) on the table.
	AlarmTableErrors AlarmKind = "table-errors"
	// AlarmTableThrottles fires when DynamoDB throttled reads or writes.
	AlarmTableThrottles AlarmKind = "table-throttles"
	// AlarmAPI5xx fires when the HTTP API answered 5xx (a function failed or timed out,
	// or the store was unavailable and the request must be retried).
	AlarmAPI5xx AlarmKind = "api-5xx"
)

// Metric is one CloudWatch metric with its statistic.
type Metric struct {
	Namespace  string
	Name       string
	Statistic  string
	Dimensions []Dimension
}

// Dimension is a metric dimension whose value is a resource's name or id.
type Dimension struct {
	Name  string
	Value Ref // RefQueueName, RefFunctionName, RefTableName, RefAPIID or RefLiteral
}

// Alarm is one CloudWatch alarm, notifying the alarm topic. It watches Metrics[0], or,
// when Expression is set, the metric math Expression over Metrics named m0, m1, ...
type Alarm struct {
	Named
	Kind              AlarmKind
	Target            string // LogicalID of the queue, function, table or API
	Metrics           []Metric
	Expression        string
	Threshold         float64
	Period            time.Duration
	EvaluationPeriods int
	Description       string
}

// AlarmTopic is the SNS topic alarms notify; the AlarmEmail parameter subscribes to it.
var AlarmTopic = Named{LogicalID: "AlarmTopic", Name: "ponte-{stage}-alarms"}

// Queue settings. Visibility and receive count are the ones internal/app uses when it
// creates queues itself (app.AWSVisibility, app.AWSMaxReceiveCount); a test holds them equal.
const (
	QueueVisibility = 120 * time.Second
	MaxReceiveCount = 20
	// DLQRetention is SQS's maximum: on standard queues a message's age in the DLQ counts
	// from its first send, so anything less shortens the time an operator has to redrive.
	DLQRetention = 14 * 24 * time.Hour
	// QueueRetention keeps undelivered work four days (SQS's default) before it expires.
	QueueRetention = 4 * 24 * time.Hour
	// ConsumerTimeout is a sixth of the visibility timeout, as AWS advises for SQS event
	// sources, so a batch that times out is retried rather than run twice at once. It
	// holds one platform call at the connectors' 10 s HTTP timeout, the reserve the
	// handlers keep for recording and settling (app.DeadlineReserve) and the store reads
	// around them; a test holds it above the first two.
	ConsumerTimeout = 20 * time.Second
	// APITimeout: the SKU view reads the platform back (10 s at most) within the API's
	// budget; API Gateway's own limit is 30 s.
	APITimeout = 15 * time.Second
	// EventsTimeout lets one outgoing webhook run its full notify.RequestTimeout (10 s)
	// plus the secret and table reads around it; EventsVisibility keeps the 6x margin.
	EventsTimeout    = 15 * time.Second
	EventsVisibility = 6 * EventsTimeout
	// ConsumerMaxConcurrency caps each queue consumer's concurrent invocations, and
	// HTTPReservedConcurrency is set aside for each HTTP function (erp-api, webhooks):
	// with 8 consumers at 5 and 2 x 10 reserved, a bulk import uses at most 40 of the
	// account's concurrency (1,000 by default; new accounts may start lower, see
	// infra/README.md) and the APIs always have theirs.
	ConsumerMaxConcurrency  = 5
	HTTPReservedConcurrency = 10
	// APIThrottleRate and APIThrottleBurst bound the HTTP API's stage (requests per
	// second, steady and burst); HTTPReservedConcurrency functions of APITimeout serve
	// well above that rate at the functions' usual latency.
	APIThrottleRate  = 50
	APIThrottleBurst = 100
	// OrderPollTimeout ends a poll before the next one-minute run starts.
	OrderPollTimeout = 50 * time.Second
)

// consumerMethods are what internal/worker.SQSBatch calls on the queue it consumes:
// Retry (a wait hint or backoff) and DeadLetter (a permanent failure); Lambda deletes.
var consumerMethods = []string{"Retry", "DeadLetter"}

// operatorMethods are what the operator's pages call on every queue: /v1/admin/queues
// (Stats), /v1/admin/failures (ListDead) and /v1/admin/failures/retry (Redrive).
var operatorMethods = []string{"Stats", "ListDead", "Redrive"}

// SecretReadActions and SecretWriteActions: connectors read credentials and write
// refreshed tokens back in place (secretsmanager.PutSecret).
var (
	SecretReadActions  = []string{"secretsmanager:GetSecretValue"}
	SecretWriteActions = []string{"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"}
)

// LogActions are what the Lambda runtime needs to write the function's own log group.
var LogActions = []string{"logs:CreateLogStream", "logs:PutLogEvents"}

// XRayActions are what active tracing needs; X-Ray supports no resource-level
// permissions, so they are granted on "*" (AWS's own AWSXrayWriteOnlyAccess does the same).
var XRayActions = []string{"xray:PutTelemetryRecords", "xray:PutTraceSegments"}

// Logical IDs of the fixed resources.
const (
	TableID         = "Table"
	ChangesQueueID  = "ChangesQueue"
	ChangesDLQID    = "ChangesDLQ"
	OrdersQueueID   = "OrdersQueue"
	OrdersDLQID     = "OrdersDLQ"
	EventsQueueID   = "EventsQueue"
	EventsDLQID     = "EventsDLQ"
	ErpAPIID        = "ErpApiFunction"
	FanoutID        = "FanoutFunction"
	ReconcileID     = "ReconcileFunction"
	WebhooksID      = "WebhooksFunction"
	OrdersID        = "OrdersFunction"
	EventsID        = "EventsFunction"
	OrderPollID     = "OrderPollFunction"
	HTTPAPIID       = "HttpApi"
	ScheduleGroupID = "ScheduleGroup"
)

// PushQueueID, PushDLQID and PushFunctionID name a platform's push resources.
func PushQueueID(platform string) string    { return "Push" + camel(platform) + "Queue" }
func PushDLQID(platform string) string      { return "Push" + camel(platform) + "DLQ" }
func PushFunctionID(platform string) string { return "Push" + camel(platform) + "Function" }

// Default is Ponte's topology for the platforms in internal/platforms.
func Default() Topology { return New(platforms.Names()) }

// New builds the topology for the given platforms: each gets a push function
// (functions/push-<name>), a FIFO push queue and its FIFO DLQ.
func New(platformNames []string) Topology {
	t := Topology{
		Parameters: []Parameter{
			{Name: StageParam, Type: "String", Default: "dev", Pattern: "[a-z][a-z0-9-]{0,15}",
				Description: "Deployment stage; part of every resource name (ponte-<stage>-...) and of the secrets prefix ponte/<stage>/."},
			{Name: AlarmEmailParam, Type: "String", Default: "",
				Description: "E-mail address subscribed to the alarm topic; empty subscribes nobody."},
			{Name: LogRetentionParam, Type: "Number", Default: "30",
				Description: "Days the functions' logs are kept.",
				Allowed:     []string{"1", "3", "5", "7", "14", "30", "60", "90", "120", "150", "180", "365", "400", "545", "731", "1096", "1827", "2192", "2557", "2922", "3288", "3653"}},
		},
		Table: Table{
			Named:        Named{LogicalID: TableID, Name: "ponte-{stage}"},
			PartitionKey: "pk", SortKey: "sk",
			GSIs:                []GSI{{Name: "gsi1", PartitionKey: "gsi1pk", SortKey: "gsi1sk"}},
			TTLAttribute:        "expires_at",
			PointInTimeRecovery: true,
			DeletionProtection:  true,
		},
		API: HTTPAPI{
			Named:        Named{LogicalID: HTTPAPIID, Name: "ponte-{stage}"},
			ThrottleRate: APIThrottleRate, ThrottleBurst: APIThrottleBurst,
			AccessLog:       Named{LogicalID: "ApiAccessLogGroup", Name: "/aws/apigateway/ponte-{stage}"},
			AccessLogFormat: accessLogFormat,
		},
		ScheduleGroup: Named{LogicalID: ScheduleGroupID, Name: "ponte-{stage}"},
	}

	t.Queues = append(t.Queues, queuePair(ChangesQueueID, ChangesDLQID, "ponte-{stage}-changes", false)...)
	// orders is standard: releases are delayed messages, which FIFO queues cannot carry.
	// events is FIFO grouped per endpoint, so each endpoint gets its events in order.
	t.Queues = append(t.Queues, queuePair(OrdersQueueID, OrdersDLQID, "ponte-{stage}-orders", false)...)
	for _, q := range queuePair(EventsQueueID, EventsDLQID, "ponte-{stage}-events", true) {
		q.Visibility = EventsVisibility
		t.Queues = append(t.Queues, q)
	}
	for _, p := range platformNames {
		t.Queues = append(t.Queues, queuePair(PushQueueID(p), PushDLQID(p), "ponte-{stage}-push-"+p, true)...)
	}

	// Every function builds the whole hub (app.OpenAWS), so every one gets the location
	// of every queue; sending rights are granted only where it sends.
	env := []EnvVar{
		{Name: "PONTE_TABLE", Value: Ref{Kind: RefTableName}},
		{Name: "PONTE_CHANGES_QUEUE_URL", Value: Ref{Kind: RefQueueURL, ID: ChangesQueueID}},
		{Name: "PONTE_CHANGES_DLQ_URL", Value: Ref{Kind: RefQueueURL, ID: ChangesDLQID}},
		{Name: "PONTE_ORDERS_QUEUE_URL", Value: Ref{Kind: RefQueueURL, ID: OrdersQueueID}},
		{Name: "PONTE_ORDERS_DLQ_URL", Value: Ref{Kind: RefQueueURL, ID: OrdersDLQID}},
		{Name: "PONTE_EVENTS_QUEUE_URL", Value: Ref{Kind: RefQueueURL, ID: EventsQueueID}},
		{Name: "PONTE_EVENTS_DLQ_URL", Value: Ref{Kind: RefQueueURL, ID: EventsDLQID}},
	}
	for _, p := range platformNames {
		up := strings.ToUpper(p)
		env = append(env,
			EnvVar{Name: "PONTE_PUSH_QUEUE_URL_" + up, Value: Ref{Kind: RefQueueURL, ID: PushQueueID(p)}},
			EnvVar{Name: "PONTE_PUSH_DLQ_URL_" + up, Value: Ref{Kind: RefQueueURL, ID: PushDLQID(p)}})
	}
	env = append(env,
		EnvVar{Name: "PONTE_SECRETS_PREFIX", Value: Ref{Kind: RefLiteral, Value: SecretsPrefix}},
		EnvVar{Name: "PONTE_LOG_LEVEL", Value: Ref{Kind: RefLiteral, Value: "info"}})
	// AWS_REGION is set by Lambda itself (reserved: a function may not declare it).

	// Every function opens the whole store: the table's data actions on it and its index.
	table := Permission{Actions: storedynamo.DataActions(), Resources: []Ref{{Kind: RefTableArn}, {Kind: RefTableIndexes}}}
	secretsOf := func(actions []string, ps ...string) Permission {
		perm := Permission{Actions: actions}
		for _, p := range ps {
			perm.Resources = append(perm.Resources, Ref{Kind: RefSecrets, Value: SecretsPrefix + p + "/"})
		}
		return perm
	}
	send := func(ids ...string) []QueueUse {
		var uses []QueueUse
		for _, id := range ids {
			uses = append(uses, QueueUse{Queue: id, Methods: []string{"Send"}})
		}
		return uses
	}
	consume := func(id string) QueueUse {
		return QueueUse{Queue: id, Methods: consumerMethods, Consumer: true}
	}
	var workQueues []string
	for _, q := range t.Queues {
		if q.DLQ != "" {
			workQueues = append(workQueues, q.LogicalID)
		}
	}
	operator := func() []QueueUse {
		var uses []QueueUse
		for _, id := range workQueues {
			uses = append(uses, QueueUse{Queue: id, Methods: operatorMethods})
		}
		return uses
	}

	// erp-api: ERP changes in (sends to changes), the ERP's order pull and ack, admin
	// views. An ack or an order_status change moves reservations (changes), schedules
	// releases and write-backs (orders) and publishes order events (events). The SKU view
	// reads the platform back, hence read access to every platform's secrets. The
	// operator's queue pages read, peek and redrive every queue pair.
	erp := function(ErpAPIID, "erp-api", 256, APITimeout, Trigger{Kind: TriggerHTTP}, env)
	erp.Description = "Ponte HTTP API: ERP changes and orders, admin"
	erp.ReservedConcurrency = HTTPReservedConcurrency
	erp.QueueUses = append(send(ChangesQueueID, OrdersQueueID, EventsQueueID), operator()...)
	erp.Permissions = append(erp.Permissions, table)
	if len(platformNames) > 0 {
		erp.Permissions = append(erp.Permissions, secretsOf(SecretReadActions, platformNames...))
	}
	t.Functions = append(t.Functions, erp)

	// fanout: consumes changes, dead-letters to its DLQ, queues pushes on every platform.
	fan := function(FanoutID, "fanout", 256, ConsumerTimeout, Trigger{Kind: TriggerQueue, Queue: ChangesQueueID, BatchSize: 10, MaxConcurrency: ConsumerMaxConcurrency}, env)
	fan.Description = "Ponte fan-out: desired state per connection, queues pushes"
	var pushQueues []string
	for _, p := range platformNames {
		pushQueues = append(pushQueues, PushQueueID(p))
	}
	fan.QueueUses = append([]QueueUse{consume(ChangesQueueID)}, send(pushQueues...)...)
	fan.Permissions = append(fan.Permissions, table)
	t.Functions = append(t.Functions, fan)

	// push-<platform>: consumes its FIFO queue, dead-letters to its DLQ, calls the
	// platform with that platform's credentials (refreshed tokens are written back).
	for _, p := range platformNames {
		f := function(PushFunctionID(p), "push-"+p, 256, ConsumerTimeout, Trigger{Kind: TriggerQueue, Queue: PushQueueID(p), BatchSize: 10, MaxConcurrency: ConsumerMaxConcurrency}, env)
		f.Platform = p
		f.Description = "Ponte push to " + p + " (FIFO, one store at a time)"
		f.QueueUses = []QueueUse{consume(PushQueueID(p))}
		f.Permissions = append(f.Permissions, table, secretsOf(SecretWriteActions, p))
		t.Functions = append(t.Functions, f)
	}

	// reconcile: reads stock and prices back from every platform on a schedule, corrects
	// drift by queueing pushes (functions/reconcile, internal/reconcile).
	rec := function(ReconcileID, "reconcile", 512, 5*time.Minute, Trigger{Kind: TriggerSchedule}, env)
	rec.Description = "Ponte reconciliation: reads platforms back, corrects drift"
	rec.QueueUses = send(pushQueues...)
	rec.Permissions = append(rec.Permissions, table)
	if len(platformNames) > 0 {
		rec.Permissions = append(rec.Permissions, secretsOf(SecretWriteActions, platformNames...))
	}
	t.Functions = append(t.Functions, rec)
	t.Functions = append(t.Functions, orderFunctions(platformNames, env, table, secretsOf, send, consume)...)
	for i := range t.Functions {
		t.Functions[i].Permissions = append(t.Functions[i].Permissions, mustQueuePermissions(t.Functions[i].QueueUses)...)
	}

	t.Routes = []Route{
		{Method: "POST", Path: "/v1/erp/changes", Function: ErpAPIID},
		{Method: "GET", Path: "/v1/admin/connections/{id}/skus/{sku}", Function: ErpAPIID},
		{Method: "GET", Path: "/healthz", Function: ErpAPIID},
		// Platforms' deliveries get their own function: a burst of orders neither waits
		// behind nor slows the ERP's API, and it may only queue deliveries.
		{Method: "POST", Path: "/v1/webhooks/{platform}/{connection}", Function: WebhooksID},
		{Method: "GET", Path: "/v1/erp/orders", Function: ErpAPIID},
		{Method: "GET", Path: "/v1/erp/orders/{id}", Function: ErpAPIID},
		{Method: "POST", Path: "/v1/erp/orders/{id}/ack", Function: ErpAPIID},
		{Method: "GET", Path: "/v1/erp/purchase-needs", Function: ErpAPIID},
		// The operator's API and page (/admin/, static files and their API calls).
		{Method: "ANY", Path: "/v1/admin/{proxy+}", Function: ErpAPIID},
		{Method: "GET", Path: "/admin", Function: ErpAPIID},
		{Method: "GET", Path: "/admin/{proxy+}", Function: ErpAPIID},
	}

	t.Schedules = []Schedule{{
		Named: Named{LogicalID: "ReconcileSchedule", Name: "ponte-{stage}-reconcile"},
		// Every minute: each connection's reconcile_interval decides whether it is due, and
		// started or crashed first syncs continue within a minute.
		Expression: "rate(1 minute)",
		Function:   ReconcileID,
		// "*" asks for every due connection and every pending first sync.
		Input:         `{"connection":"*"}`,
		RoleLogicalID: "SchedulerRole",
		RetryAttempts: 2,
		MaxEventAge:   10 * time.Minute,
	}, {
		Named:      Named{LogicalID: "OrderPollSchedule", Name: "ponte-{stage}-order-poll"},
		Expression: "rate(1 minute)",
		Function:   OrderPollID,
		Input:      `{}`,
		// Its own role: a Scheduler role may invoke one function only.
		RoleLogicalID: "OrderPollSchedulerRole",
		// No retry: the next run is a minute away and does the same work.
		RetryAttempts: 0,
		MaxEventAge:   time.Minute,
	}}

	t.Alarms = alarms(t)
	t.Dashboard = Named{LogicalID: "Dashboard", Name: "ponte-{stage}"}
	return t
}

func queuePair(id, dlqID, name string, fifo bool) []Queue {
	suffix := ""
	if fifo {
		suffix = ".fifo"
	}
	return []Queue{
		{Named: Named{LogicalID: dlqID, Name: name + "-dlq" + suffix}, FIFO: fifo, Visibility: QueueVisibility, Retention: DLQRetention,
			HighThroughput: fifo},
		{Named: Named{LogicalID: id, Name: name + suffix}, FIFO: fifo, Visibility: QueueVisibility, Retention: QueueRetention,
			DLQ: dlqID, MaxReceiveCount: MaxReceiveCount, HighThroughput: fifo},
	}
}

func function(id, short string, memory int, timeout time.Duration, trig Trigger, env []EnvVar) Function {
	name := "ponte-{stage}-" + short
	return Function{
		Named:    Named{LogicalID: id, Name: name},
		Short:    short,
		CodeDir:  "functions/" + short,
		MemoryMB: memory, Timeout: timeout, Trigger: trig,
		Env:      append([]EnvVar(nil), env...),
		LogGroup: Named{LogicalID: strings.TrimSuffix(id, "Function") + "LogGroup", Name: "/aws/lambda/" + name},
		Tracing:  true,
		Permissions: []Permission{
			{Actions: LogActions, Resources: []Ref{{Kind: RefLogGroupArn}}},
			{Actions: XRayActions, Resources: []Ref{{Kind: RefAnyResource}}},
		},
	}
}

// Queue returns the queue with that LogicalID.
func (t Topology) Queue(id string) (Queue, bool) {
	for _, q := range t.Queues {
		if q.LogicalID == id {
			return q, true
		}
	}
	return Queue{}, false
}

// Function returns the function with that LogicalID.
func (t Topology) Function(id string) (Function, bool) {
	for _, f := range t.Functions {
		if f.LogicalID == id {
			return f, true
		}
	}
	return Function{}, false
}

// Sub turns a {stage} name into a CloudFormation Fn::Sub string.
func Sub(name string) string { return strings.ReplaceAll(name, "{stage}", "${"+StageParam+"}") }

// WithStage substitutes a concrete stage (for local runs and tests).
func WithStage(name, stage string) string { return strings.ReplaceAll(name, "{stage}", stage) }

// camel turns "push-tray" or "tray" into "PushTray" / "Tray" for logical IDs.
func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if r == '-' || r == '_' {
			up = true
			continue
		}
		if up && r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		up = false
		b.WriteRune(r)
	}
	return b.String()
}

// OutputEnv lists the environment variables a stack exports as outputs, sorted by output
// ID: every location `ponte serve` needs to run against the deployed resources (all
// functions share one environment, so the first function's is the whole list).
func (t Topology) OutputEnv() []EnvVar {
	if len(t.Functions) == 0 {
		return nil
	}
	var out []EnvVar
	for _, e := range t.Functions[0].Env {
		if e.Value.Kind == RefLiteral && e.Name != "PONTE_SECRETS_PREFIX" {
			continue
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return OutputID(out[i].Name) < OutputID(out[j].Name) })
	return out
}

// mustQueuePermissions turns a function's queue uses into IAM statements, one per set of
// actions, each on every queue (or DLQ) that needs exactly that set. A method unknown to
// the SQS adapter is a mistake in this file, caught by every test that builds a topology.
func mustQueuePermissions(uses []QueueUse) []Permission {
	actions := map[string][]string{} // queue LogicalID -> actions
	var order []string
	add := func(id, action string) {
		if _, ok := actions[id]; !ok {
			order = append(order, id)
		}
		actions[id] = append(actions[id], action)
	}
	for _, u := range uses {
		grants, unknown := queuesqs.GrantsFor(u.Methods...)
		if len(unknown) > 0 {
			panic(fmt.Sprintf("topology: queue %s: methods %v are not in sqs.MethodGrants", u.Queue, unknown))
		}
		if u.Consumer {
			grants = append(grants, queuesqs.ConsumerGrants...)
		}
		for _, g := range grants {
			id := u.Queue
			if g.On == queuesqs.OnDLQ {
				id = dlqOf(u.Queue)
			}
			add(id, g.Action)
		}
	}
	var perms []Permission
	bySet := map[string]int{}
	for _, id := range order {
		acts := slices.Compact(slices.Sorted(slices.Values(actions[id])))
		key := strings.Join(acts, ",")
		i, ok := bySet[key]
		if !ok {
			i = len(perms)
			bySet[key] = i
			perms = append(perms, Permission{Actions: acts})
		}
		perms[i].Resources = append(perms[i].Resources, Ref{Kind: RefQueueArn, ID: id})
	}
	return perms
}

// dlqOf names a work queue's dead-letter queue by the LogicalID convention queuePair uses
// (ChangesQueue -> ChangesDLQ, PushTrayQueue -> PushTrayDLQ).
func dlqOf(queueID string) string { return strings.TrimSuffix(queueID, "Queue") + "DLQ" }
