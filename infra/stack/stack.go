// Package stack builds Ponte's CloudFormation stack with the CDK from the one declaration
// in internal/topology. Every resource keeps the declaration's logical ID (overridden
// where the CDK would hash it), so the synthesized template and the SAM template in
// template.yaml name the same things the same way and a test can compare them.
package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/ponte-hub/ponte/infra/cfn"
	"github.com/ponte-hub/ponte/internal/topology"
)

// Props configure the stack.
type Props struct {
	awscdk.StackProps
	Topology topology.Topology
	// DefaultStage is the Stage parameter's default (the stack is named after it).
	DefaultStage string
	// AssetDir returns the directory holding the function's bootstrap.
	AssetDir func(f topology.Function) string
}

// New builds the stack.
func New(scope constructs.Construct, id string, props Props) awscdk.Stack {
	st := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	topo := props.Topology
	b := &builder{stack: st, topo: topo, queues: map[string]awssqs.Queue{}, fns: map[string]awslambda.Function{}}

	b.parameters(props.DefaultStage)
	b.table()
	b.queueResources()
	for _, f := range topo.Functions {
		b.function(f, props.AssetDir(f))
	}
	b.httpAPI()
	b.schedules()
	b.alarms()
	b.outputs()
	return st
}

type builder struct {
	stack     awscdk.Stack
	topo      topology.Topology
	params    map[string]awscdk.CfnParameter
	hasEmail  awscdk.CfnCondition
	tbl       awsdynamodb.Table
	queues    map[string]awssqs.Queue
	fns       map[string]awslambda.Function
	logGroups map[string]awslogs.LogGroup
	api       awsapigatewayv2.HttpApi
}

// sub renders a {stage} name as Fn::Sub over the Stage parameter (a plain string when
// there is nothing to substitute).
func sub(name string) *string {
	if s := topology.Sub(name); s != name {
		return awscdk.Fn_Sub(jsii.String(s), nil)
	}
	return jsii.String(name)
}

func seconds(d interface{ Seconds() float64 }) awscdk.Duration {
	return awscdk.Duration_Seconds(jsii.Number(d.Seconds()))
}

// setID pins a construct's CloudFormation logical ID to the declaration's.
func setID(c constructs.IConstruct, id string) {
	c.Node().DefaultChild().(awscdk.CfnResource).OverrideLogicalId(jsii.String(id))
}

func (b *builder) parameters(defaultStage string) {
	b.params = map[string]awscdk.CfnParameter{}
	for _, p := range b.topo.Parameters {
		props := &awscdk.CfnParameterProps{Type: jsii.String(p.Type), Description: jsii.String(p.Description)}
		def := p.Default
		if p.Name == topology.StageParam && defaultStage != "" {
			def = defaultStage
		}
		// CloudFormation parameter defaults are strings whatever the type, and cfn-lint
		// compares them with AllowedValues as strings.
		props.Default = jsii.String(def)
		if p.Pattern != "" {
			props.AllowedPattern = jsii.String(p.Pattern)
		}
		if len(p.Allowed) > 0 {
			props.AllowedValues = jsii.Strings(p.Allowed...)
		}
		b.params[p.Name] = awscdk.NewCfnParameter(b.stack, jsii.String(p.Name), props)
	}
	b.hasEmail = awscdk.NewCfnCondition(b.stack, jsii.String(topology.HasAlarmEmailCondition), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(b.params[topology.AlarmEmailParam].ValueAsString(), jsii.String(""))),
	})
}

func (b *builder) table() {
	t := b.topo.Table
	str := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	b.tbl = awsdynamodb.NewTable(b.stack, jsii.String(t.LogicalID), &awsdynamodb.TableProps{
		TableName:           sub(t.Name),
		PartitionKey:        str(t.PartitionKey),
		SortKey:             str(t.SortKey),
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String(t.TTLAttribute),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(t.PointInTimeRecovery),
		},
		// The table is the system of record: deleting the stack must not delete it.
		RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
		DeletionProtection: jsii.Bool(t.DeletionProtection),
	})
	for _, g := range t.GSIs {
		b.tbl.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(g.Name),
			PartitionKey:   str(g.PartitionKey),
			SortKey:        str(g.SortKey),
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	setID(b.tbl, t.LogicalID)
}

func (b *builder) queueResources() {
	// DLQs first: work queues refer to them.
	for pass := 0; pass < 2; pass++ {
		for _, q := range b.topo.Queues {
			if (q.DLQ == "") != (pass == 0) {
				continue
			}
			props := &awssqs.QueueProps{
				VisibilityTimeout: seconds(q.Visibility),
				RetentionPeriod:   seconds(q.Retention),
				Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
				RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
			}
			if q.FIFO {
				props.Fifo = jsii.Bool(true)
			}
			if q.HighThroughput {
				props.DeduplicationScope = awssqs.DeduplicationScope_MESSAGE_GROUP
				props.FifoThroughputLimit = awssqs.FifoThroughputLimit_PER_MESSAGE_GROUP_ID
			}
			if q.DLQ != "" {
				props.DeadLetterQueue = &awssqs.DeadLetterQueue{Queue: b.queues[q.DLQ], MaxReceiveCount: jsii.Number(float64(q.MaxReceiveCount))}
			}
			queue := awssqs.NewQueue(b.stack, jsii.String(q.LogicalID), props)
			// The L2 insists on seeing ".fifo" at synth time, which a {stage} name
			// (a token) cannot show, so the name is set on the resource itself.
			queue.Node().DefaultChild().(awscdk.CfnResource).AddPropertyOverride(jsii.String("QueueName"), sub(q.Name))
			setID(queue, q.LogicalID)
			b.queues[q.LogicalID] = queue
		}
	}
}

// resolve turns a declaration reference into a CloudFormation value for function f.
func (b *builder) resolve(r topology.Ref, f topology.Function) *string {
	switch r.Kind {
	case topology.RefLiteral:
		return sub(r.Value)
	case topology.RefTableName:
		return b.tbl.TableName()
	case topology.RefTableArn:
		return b.tbl.TableArn()
	case topology.RefTableIndexes:
		return awscdk.Fn_Sub(jsii.String("${"+b.topo.Table.LogicalID+".Arn}/index/*"), nil)
	case topology.RefQueueURL:
		return b.queues[r.ID].QueueUrl()
	case topology.RefQueueArn:
		return b.queues[r.ID].QueueArn()
	case topology.RefSecrets:
		return awscdk.Fn_Sub(jsii.String(topology.SecretsArnPattern(r.Value)), nil)
	case topology.RefLogGroupArn:
		return b.logGroups[f.LogicalID].LogGroupArn()
	case topology.RefAnyResource:
		return jsii.String("*")
	}
	panic("unknown reference kind " + string(r.Kind))
}

func (b *builder) function(f topology.Function, assetDir string) {
	if b.logGroups == nil {
		b.logGroups = map[string]awslogs.LogGroup{}
	}
	lg := awslogs.NewLogGroup(b.stack, jsii.String(f.LogGroup.LogicalID), &awslogs.LogGroupProps{
		LogGroupName:  sub(f.LogGroup.Name),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	setID(lg, f.LogGroup.LogicalID)
	// Retention is a parameter; the L2's enum cannot carry a token, so set it on the resource.
	lg.Node().DefaultChild().(awscdk.CfnResource).AddPropertyOverride(jsii.String("RetentionInDays"),
		b.params[topology.LogRetentionParam].ValueAsNumber())
	b.logGroups[f.LogicalID] = lg

	// An explicit role with inline statements only: no managed policy (the CDK's default
	// AWSLambdaBasicExecutionRole allows logs on "*"), and the function cannot start
	// before its grants exist, so the event source mapping never races its permissions.
	doc := awsiam.NewPolicyDocument(nil)
	for _, p := range f.Permissions {
		var res []*string
		for _, r := range p.Resources {
			res = append(res, b.resolve(r, f))
		}
		doc.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings(p.Actions...), Resources: &res,
		}))
	}
	role := awsiam.NewRole(b.stack, jsii.String(f.LogicalID+"Role"), &awsiam.RoleProps{
		AssumedBy:      awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		InlinePolicies: &map[string]awsiam.PolicyDocument{topology.PolicyName: doc},
	})
	setID(role, f.LogicalID+"Role")

	env := map[string]*string{}
	for _, e := range f.Env {
		env[e.Name] = b.resolve(e.Value, f)
	}
	props := &awslambda.FunctionProps{
		FunctionName: sub(f.Name),
		Description:  jsii.String(f.Description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String(topology.Handler),
		Code:         awslambda.Code_FromAsset(jsii.String(assetDir), nil),
		MemorySize:   jsii.Number(float64(f.MemoryMB)),
		Timeout:      seconds(f.Timeout),
		Environment:  &env,
		Role:         role,
		LogGroup:     lg,
	}
	if f.ReservedConcurrency > 0 {
		props.ReservedConcurrentExecutions = jsii.Number(float64(f.ReservedConcurrency))
	}
	fn := awslambda.NewFunction(b.stack, jsii.String(f.LogicalID), props)
	setID(fn, f.LogicalID)
	if f.Tracing {
		// Set on the resource: the L2's Tracing would add its own X-Ray policy to the
		// role; the declaration grants X-Ray's actions itself.
		fn.Node().DefaultChild().(awscdk.CfnResource).AddPropertyOverride(jsii.String("TracingConfig"),
			map[string]any{"Mode": "Active"})
	}
	// The CDK adds DependsOn the role, which the role's GetAtt already implies.
	fn.Node().DefaultChild().(awscdk.CfnResource).AddDeletionOverride(jsii.String("DependsOn"))
	b.fns[f.LogicalID] = fn

	if f.Trigger.Kind == topology.TriggerQueue {
		// No awslambdaeventsources.SqsEventSource: it would add its own grant to the role;
		// the declaration already holds the consume statement.
		esmProps := &awslambda.EventSourceMappingProps{
			Target:                  fn,
			EventSourceArn:          b.queues[f.Trigger.Queue].QueueArn(),
			BatchSize:               jsii.Number(float64(f.Trigger.BatchSize)),
			ReportBatchItemFailures: jsii.Bool(true),
		}
		if f.Trigger.MaxConcurrency > 0 {
			esmProps.MaxConcurrency = jsii.Number(float64(f.Trigger.MaxConcurrency))
		}
		esm := awslambda.NewEventSourceMapping(b.stack, jsii.String(f.LogicalID+topology.QueueEventName), esmProps)
		setID(esm, f.LogicalID+topology.QueueEventName)
	}
}

func (b *builder) httpAPI() {
	api := b.topo.API
	b.api = awsapigatewayv2.NewHttpApi(b.stack, jsii.String(api.LogicalID), &awsapigatewayv2.HttpApiProps{
		ApiName:            sub(api.Name),
		CreateDefaultStage: jsii.Bool(true),
	})
	setID(b.api, api.LogicalID)
	accessLog := awslogs.NewLogGroup(b.stack, jsii.String(api.AccessLog.LogicalID), &awslogs.LogGroupProps{
		LogGroupName:  sub(api.AccessLog.Name),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	setID(accessLog, api.AccessLog.LogicalID)
	accessLog.Node().DefaultChild().(awscdk.CfnResource).AddPropertyOverride(jsii.String("RetentionInDays"),
		b.params[topology.LogRetentionParam].ValueAsNumber())
	// Throttling and the access log are set on the $default stage's resource, rendered
	// by infra/cfn as the SAM template's HttpApi carries them.
	stage := b.api.DefaultStage().Node().DefaultChild().(awscdk.CfnResource)
	stage.AddPropertyOverride(jsii.String("AccessLogSettings"), cfn.StageAccessLog(b.topo))
	stage.AddPropertyOverride(jsii.String("DefaultRouteSettings"), cfn.StageThrottle(b.topo))
	integrations := map[string]awsapigatewayv2integrations.HttpLambdaIntegration{}
	for _, r := range b.topo.Routes {
		integ, ok := integrations[r.Function]
		if !ok {
			integ = awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(r.Function+"Integration"), b.fns[r.Function],
				&awsapigatewayv2integrations.HttpLambdaIntegrationProps{PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0()})
			integrations[r.Function] = integ
		}
		b.api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.Path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(r.Method)},
			Integration: integ,
		})
	}
}

func (b *builder) schedules() {
	g := b.topo.ScheduleGroup
	group := awsscheduler.NewCfnScheduleGroup(b.stack, jsii.String(g.LogicalID), &awsscheduler.CfnScheduleGroupProps{Name: sub(g.Name)})
	for _, s := range b.topo.Schedules {
		fn := b.fns[s.Function]
		// Scheduler may invoke this one function and nothing else, and only for this account.
		role := awsiam.NewRole(b.stack, jsii.String(s.RoleLogicalID), &awsiam.RoleProps{
			AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
				Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}},
			}),
			InlinePolicies: &map[string]awsiam.PolicyDocument{topology.PolicyName: awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
				Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Actions: jsii.Strings("lambda:InvokeFunction"), Resources: jsii.Strings(*fn.FunctionArn()),
				})},
			})},
		})
		setID(role, s.RoleLogicalID)
		awsscheduler.NewCfnSchedule(b.stack, jsii.String(s.LogicalID), &awsscheduler.CfnScheduleProps{
			Name:               sub(s.Name),
			GroupName:          group.Ref(),
			ScheduleExpression: jsii.String(s.Expression),
			FlexibleTimeWindow: &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
			Target: &awsscheduler.CfnSchedule_TargetProperty{
				Arn:     fn.FunctionArn(),
				RoleArn: role.RoleArn(),
				Input:   jsii.String(s.Input),
				RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
					MaximumRetryAttempts:     jsii.Number(float64(s.RetryAttempts)),
					MaximumEventAgeInSeconds: jsii.Number(s.MaxEventAge.Seconds()),
				},
			},
		})
	}
}

func (b *builder) alarms() {
	topic := awssns.NewTopic(b.stack, jsii.String(topology.AlarmTopic.LogicalID), &awssns.TopicProps{TopicName: sub(topology.AlarmTopic.Name)})
	setID(topic, topology.AlarmTopic.LogicalID)
	subscription := awssns.NewCfnSubscription(b.stack, jsii.String(topology.AlarmSubscriptionID), &awssns.CfnSubscriptionProps{
		TopicArn: topic.TopicArn(),
		Protocol: jsii.String("email"),
		Endpoint: b.params[topology.AlarmEmailParam].ValueAsString(),
	})
	subscription.CfnOptions().SetCondition(b.hasEmail)
	for _, a := range b.topo.Alarms {
		props, err := cfn.Alarm(b.topo, a)
		if err != nil {
			panic(err) // a declaration the tests of internal/topology refuse
		}
		awscdk.NewCfnResource(b.stack, jsii.String(a.LogicalID), &awscdk.CfnResourceProps{
			Type: jsii.String("AWS::CloudWatch::Alarm"), Properties: &props,
		})
	}
	dash, err := cfn.Dashboard(b.topo)
	if err != nil {
		panic(err)
	}
	awscdk.NewCfnResource(b.stack, jsii.String(b.topo.Dashboard.LogicalID), &awscdk.CfnResourceProps{
		Type: jsii.String("AWS::CloudWatch::Dashboard"), Properties: &dash,
	})
}

// outputs name every value `ponte serve` needs to run against this stack; each output's
// description is the environment variable it feeds (see infra/README.md).
func (b *builder) outputs() {
	out := func(id string, value *string, env string) {
		awscdk.NewCfnOutput(b.stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(env)})
	}
	out("ApiUrl", b.api.ApiEndpoint(), "PONTE_API_URL")
	f := b.topo.Functions[0]
	for _, e := range b.topo.OutputEnv() {
		out(topology.OutputID(e.Name), b.resolve(e.Value, f), e.Name)
	}
}
