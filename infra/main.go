// Command infra is Ponte's CDK app: it synthesizes the stack ponte-<stage> from the
// declaration in internal/topology. Run it through the cdk CLI (cdk.json) from infra/:
//
//	cdk deploy -c stage=prod --parameters AlarmEmail=ops@example.com
//
// Context: stage (default dev) names the stack and is the Stage parameter's default;
// assets (default ../build) holds <function>/bootstrap from `make build`.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/ponte-hub/ponte/infra/stack"
	"github.com/ponte-hub/ponte/internal/topology"
)

// placeholder is deployed for a declared function whose bootstrap was not built, so the
// stack still synthesizes before the function's code lands (see README.md).
const placeholder = "testdata/placeholder"

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	stage := contextOr(app, "stage", "dev")
	assets := contextOr(app, "assets", "../build")

	st := stack.New(app, "ponte-"+stage, stack.Props{
		StackProps:   awscdk.StackProps{Description: jsii.String("Ponte ERP <-> e-commerce sync hub (" + stage + ")")},
		Topology:     topology.Default(),
		DefaultStage: stage,
		AssetDir: func(f topology.Function) string {
			return AssetDir(assets, f)
		},
	})
	for _, f := range topology.Default().Functions {
		if AssetDir(assets, f) == placeholder {
			msg := fmt.Sprintf("%s: no %s/%s/bootstrap (is %s missing, or was make build not run?): deploying a placeholder that fails every invocation",
				f.LogicalID, assets, f.Short, f.CodeDir)
			awscdk.Annotations_Of(st).AddWarningV2(jsii.String("ponte:placeholder-"+f.Short), jsii.String(msg))
			fmt.Fprintln(os.Stderr, "warning:", msg)
		}
	}
	app.Synth(nil)
}

// AssetDir is the directory holding f's bootstrap under assets, or the placeholder.
func AssetDir(assets string, f topology.Function) string {
	dir := filepath.Join(assets, f.Short)
	if _, err := os.Stat(filepath.Join(dir, topology.Handler)); err != nil {
		return placeholder
	}
	return dir
}

func contextOr(app awscdk.App, key, def string) string {
	if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok && v != "" {
		return v
	}
	return def
}
