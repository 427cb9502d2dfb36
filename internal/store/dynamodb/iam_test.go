package dynamodb

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// The operation table is exactly the DynamoDB client methods this package's code calls:
// a new call without its IAM row would be AccessDenied on AWS, and a row for a call
// that is gone would grant what no code uses.
func TestOperationTableMatchesTheSource(t *testing.T) {
	clientMethods := map[string]bool{}
	ct := reflect.TypeFor[*dynamodb.Client]()
	for i := range ct.NumMethod() {
		clientMethods[ct.Method(i).Name] = true
	}
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	called := map[string]bool{}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || !clientMethods[sel.Sel.Name] {
					return true
				}
				// s.client.X(...) or client.X(...): calls on a *dynamodb.Client.
				switch x := sel.X.(type) {
				case *ast.SelectorExpr:
					if x.Sel.Name == "client" {
						called[sel.Sel.Name] = true
					}
				case *ast.Ident:
					if x.Name == "client" {
						called[sel.Sel.Name] = true
					}
				}
				return true
			})
		}
	}
	// The waiter's DescribeTable does not appear as a call; CreateTable makes it.
	called["DescribeTable"] = true
	var got, want []string
	for op := range called {
		got = append(got, op)
	}
	for op := range operationActions {
		want = append(want, op)
	}
	want = append(want, SetupOperations...)
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("client calls in the source %v\ndeclared (operationActions + SetupOperations) %v", got, want)
	}
	for _, a := range DataActions() {
		if !strings.HasPrefix(a, "dynamodb:") || strings.Contains(a, "*") {
			t.Errorf("action %q", a)
		}
	}
}
