// Command infra is Ponte's CDK app: it synthesizes the stack ponte-<stage> from the
// declaration in internal/topology. Run it through the cdk CLI (cdk.json) from infra/:
//
//	cdk deploy -c stage=prod --parameters AlarmEmail=ops@example.com
//
// Context: stage (default dev) names the stack and is the Stage parameter's default;
// assets (default ../build) holds <function>/bootstrap from `make build`; synth stops if
// any declared function's bootstrap is missing.
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

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	stage := contextOr(app, "stage", "dev")
	assets := contextOr(app, "assets", "../build")

	// Every declared function has its code: a missing bootstrap means make build was not
	// run (or failed), and deploying without it would break that function.
	for _, f := range topology.Default().Functions {
		if _, err := os.Stat(filepath.Join(AssetDir(assets, f), topology.Handler)); err != nil {
			fmt.Fprintf(os.Stderr, "infra: %s: no %s/%s/%s (run make build): %v\n", f.LogicalID, assets, f.Short, topology.Handler, err)
			jsii.Close()
			os.Exit(1)
		}
	}
	stack.New(app, "ponte-"+stage, stack.Props{
		StackProps:   awscdk.StackProps{Description: jsii.String("Ponte ERP <-> e-commerce sync hub (" + stage + ")")},
		Topology:     topology.Default(),
		DefaultStage: stage,
		AssetDir: func(f topology.Function) string {
			return AssetDir(assets, f)
		},
	})
	app.Synth(nil)
}

// AssetDir is the directory holding f's bootstrap under assets.
func AssetDir(assets string, f topology.Function) string {
	return filepath.Join(assets, f.Short)
}

func contextOr(app awscdk.App, key, def string) string {
	if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok && v != "" {
		return v
	}
	return def
}
