package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzPostChanges posts arbitrary bodies (and Idempotency-Keys) through the real handler
// on the embedded backend: whatever arrives, the answer is a 2xx or 4xx with a JSON body,
// never a 5xx or a panic.
func FuzzPostChanges(f *testing.F) {
	seeds := []string{
		``,
		`{}`,
		`{"changes":[]}`,
		`{"changes":null}`,
		`{"changes":[{"type":"stock","sku":"A-1","version":1,"quantity":5}]}`,
		`{"changes":[{"type":"price","sku":"A-2","version":"2","price":"10.1234","cost":1e2,"list_price":null,"currency":"usd"}]}`,
		`{"changes":[{"type":"product","sku":"A-3","version":1,"name":"x","ean":"789","weight_grams":10,"publish":false,"attributes":{"a":"b"}}]}`,
		`{"changes":[{"type":"stock","sku":"A-1","version":18446744073709551616,"quantity":1e400}]}`,
		`{"changes":[{"type":"stock","sku":"A-1","version":-1,"quantity":-0}]}`,
		`{"changes":[{"type":"stock","sku":"\u0000#","version":1,"quantity":1}]}`,
		`{"changes":[null,1,"x",[],{}]}`,
		`{"changes":[{"type":"price","sku":"A-2","version":3,"price":"1e-9"}]}`,
		`{"changes":[{"type":"price","sku":"A-2","version":3,"price":"9999999999999999999999999"}]}`,
		`{"changes":[` + strings.Repeat(`{"type":"stock","sku":"A-1","version":1,"quantity":1},`, 20) + `{}]}`,
		`{"changes":[{"type":"stock","sku":"A-1","version":1,"quantity":1}]}trailing`,
		"\xff\xfe{\"changes\":[]}",
		`{"changes":[{"type":"stock","sku":"A-1","version":1,"quantity":5,"warehous":"sp"}]}`,
		`{"changes":[{"type":"stock","sku":"A-1","sku":"A-2","version":1,"quantity":5}],"changes":[]}`,
		"{\"changes\":[{\"type\":\"product\",\"sku\":\"A-1\xff\",\"version\":1,\"name\":\"x\\ud800\"}]}",
		`{"changes":[{"type":"product","sku":"A\u202e1","version":9223372036854775807,"name":"x","images":["/a"],"ean":"1","additional_codes":["#"]}]}`,
		`{"changes":[{"type":"price","sku":"A-2","version":3,"price":"1","currency":"USD"}],"extra":true}`,
	}
	for i, s := range seeds {
		key := ""
		if i%3 == 0 {
			key = "fuzz-key"
		}
		f.Add(s, key)
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, body, idemKey string) {
		var hdr map[string]string
		if idemKey != "" {
			hdr = map[string]string{"Idempotency-Key": idemKey}
		}
		rec := e.post(t, keyA, body, hdr)
		if rec.Code >= 500 || rec.Code < 200 {
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Code == http.StatusAccepted {
			res := result(t, rec)
			if res.Accepted < res.Duplicates || res.Accepted < 0 {
				t.Fatalf("inconsistent result %+v", res)
			}
			return
		}
		if eb := errorBody(t, rec); eb.Error == "" {
			t.Fatalf("status %d without an error message: %s", rec.Code, rec.Body)
		}
	})
}
