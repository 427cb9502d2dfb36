package tray

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/domain"
	"github.com/ponte-hub/ponte/internal/platform"
)

func TestZZReal(t *testing.T) {
	for _, f := range []string{"order_complete_docs_2021-04.json", "order_complete_docs_2021-08.json"} {
		b, _ := os.ReadFile("/work/shared/real-payloads/tray/" + f)
		o, err := normaliseOrder(b, domain.Connection{ID: "c"}, settings{currency: "BRL", lineDiscounts: true}, platform.SaoPaulo())
		if err != nil {
			fmt.Println(f, "ERR", err)
			b = []byte(strings.Replace(string(b), `"Notebook Alienware Gamer,`, `"Notebook Alienware Gamer",`, 1))
			o, err = normaliseOrder(b, domain.Connection{ID: "c"}, settings{currency: "BRL", lineDiscounts: true}, platform.SaoPaulo())
			fmt.Println(f, "(quote fixed)", err)
		}
		j, _ := json.MarshalIndent(o, "", " ")
		fmt.Println(string(j))
		fmt.Printf("%s check=%q\n", f, o.CheckTotal())
	}
}
