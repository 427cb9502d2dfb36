package nuvemshopsim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

const ua = "Sim tests (dev@example.com)"

// TestOrderBodyVerbatim: a payload added with AddOrder is served byte for byte (a
// duplicate key and the key order included) until the order changes.
func TestOrderBodyVerbatim(t *testing.T) {
	s, api := start(t)
	payload := `{"id": 450, "number": 1, "price": "58.00", "number": 101, "payment_status": "paid", "updated_at": "2024-01-02T10:00:00-03:00"}`
	if err := s.AddOrder("1", []byte(payload)); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := call(t, http.MethodGet, api+"/1/orders/450", "t1", ua, ""); code != 200 || body != payload {
		t.Fatalf("get: %d %s", code, body)
	}
	if code, body, h := call(t, http.MethodGet, api+"/1/orders?updated_at_min=2024-01-01T00:00:00%2B00:00", "t1", ua, ""); code != 200 || body != "["+payload+"]" || h.Get("X-Total-Count") != "1" {
		t.Fatalf("list: %d %s %v", code, body, h)
	}
	if code, _, _ := call(t, http.MethodPost, api+"/1/orders/450/close", "t1", ua, "{}"); code != 200 {
		t.Fatalf("close: %d", code)
	}
	if _, body, _ := call(t, http.MethodGet, api+"/1/orders/450", "t1", ua, ""); body == payload || !strings.Contains(body, `"status":"closed"`) || strings.Contains(body, `"_`) {
		t.Fatalf("after close: %s", body)
	}
	if err := s.AddOrder("1", []byte(`{"number": 3}`)); err == nil {
		t.Fatal("an order without id was accepted")
	}
}

func TestListOrders(t *testing.T) {
	s, api := start(t)
	add := func(id, payment, updated string) {
		t.Helper()
		if err := s.AddOrder("1", []byte(`{"id":`+id+`,"status":"open","payment_status":"`+payment+`","created_at":"`+updated+`","updated_at":"`+updated+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	add("1", "paid", "2025-01-01T10:00:00+0000")
	add("2", "voided", "2025-01-01T11:00:00+0000")
	add("3", "pending", "2025-01-01T12:00:00+0000")
	add("4", "paid", "2025-01-02T12:00:00+0000")
	get := func(q string) (int, string, http.Header) {
		return call(t, http.MethodGet, api+"/1/orders?"+q, "t1", ua, "")
	}
	if code, body, h := get("updated_at_max=2025-01-01T23:00:00%2B00:00"); code != 200 || h.Get("X-Total-Count") != "2" ||
		strings.Index(body, `"id":3`) > strings.Index(body, `"id":1`) {
		t.Fatalf("default payment_status lists authorized, pending and paid, newest first: %d %s", code, body)
	}
	if _, body, _ := get("payment_status=voided"); !strings.Contains(body, `"id":2`) || strings.Contains(body, `"id":1`) {
		t.Fatalf("voided: %s", body)
	}
	if code, body, h := get("per_page=2&page=1"); code != 200 || h.Get("X-Total-Count") != "3" || !strings.Contains(h.Get("Link"), `rel="next"`) || strings.Count(body, `"id"`) != 2 {
		t.Fatalf("page 1: %d %s %v", code, body, h)
	}
	if code, body, _ := get("per_page=2&page=3"); code != 404 || !strings.Contains(body, "Last page is 2") {
		t.Fatalf("past the last page: %d %s", code, body)
	}
	if code, body, _ := get("updated_at_min=2030-01-01"); code != 404 || !strings.Contains(body, "Last page is 0") {
		t.Fatalf("empty: %d %s", code, body)
	}
	if code, _, _ := get("per_page=200&page=51"); code != 422 {
		t.Fatalf("deeper than 10000: %d", code)
	}
	if code, _, _ := get("updated_at_min=yesterday"); code != 422 {
		t.Fatalf("bad time: %d", code)
	}
	// The list spends the bucket like any call.
	if s.Calls("1").ByEndpoint[EpOrders] != 7 {
		t.Fatalf("calls %v", s.Calls("1").ByEndpoint)
	}
}

func TestMetafields(t *testing.T) {
	s, api := start(t)
	if err := s.AddOrder("1", []byte(`{"id":77}`)); err != nil {
		t.Fatal(err)
	}
	post := func(body string) (int, string) {
		code, b, _ := call(t, http.MethodPost, api+"/1/metafields", "t1", ua, body)
		return code, b
	}
	good := `{"namespace":"nfe","key":"list","value":"[{\"key\":\"1\",\"link\":\"\"}]","description":"Lista de NFes","owner_resource":"Order","owner_id":77}`
	if code, body := post(good); code != 201 || !strings.Contains(body, `"id":1`) {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body := post(good); code != 422 || !strings.Contains(body, "already been taken") {
		t.Fatalf("duplicate: %d %s", code, body)
	}
	for _, bad := range []string{
		strings.Replace(good, `"owner_id":77`, `"owner_id":78`, 1),
		strings.Replace(good, `"namespace":"nfe"`, `"namespace":"1nfe"`, 1),
		strings.Replace(good, `"owner_resource":"Order"`, `"owner_resource":"Cart"`, 1),
		`{"namespace":"nfe","key":"x","value":[1],"owner_resource":"Order","owner_id":77}`,
	} {
		if code, body := post(bad); code != 404 && code != 422 {
			t.Fatalf("%s: %d %s", bad, code, body)
		}
	}
	if code, body, _ := call(t, http.MethodGet, api+"/1/metafields/orders?owner_id=77&namespace=nfe&key=list", "t1", ua, ""); code != 200 || !strings.Contains(body, `"owner_id":77`) {
		t.Fatalf("list: %d %s", code, body)
	}
	if code, body, _ := call(t, http.MethodPut, api+"/1/metafields/1", "t1", ua, `{"value":"[]"}`); code != 200 || !strings.Contains(body, `"value":"[]"`) {
		t.Fatalf("put: %d %s", code, body)
	}
	if code, _, _ := call(t, http.MethodPut, api+"/1/metafields/9", "t1", ua, `{"value":"[]"}`); code != 404 {
		t.Fatalf("put unknown: %d", code)
	}
	if m := s.Metafields("1"); len(m) != 1 || m[0].Value != "[]" || m[0].UpdatedAt.Before(m[0].CreatedAt) || m[0].CreatedAt.After(time.Now()) {
		t.Fatalf("recorded %+v", m)
	}
}

func TestUpdateOrderNotifies(t *testing.T) {
	s := New(Options{Now: func() time.Time { return time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC) }})
	s.AddStore("5", StoreConfig{AccessToken: "t", AppSecret: "sec"})
	if err := s.AddOrder("5", []byte(`{"id":9,"status":"open","payment_status":"paid"}`)); err != nil {
		t.Fatal(err)
	}
	d1, err := s.UpdateOrder("5", "9", map[string]any{"status": "cancelled"})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := s.UpdateOrder("5", "9", map[string]any{"payment_status": "refunded"})
	if err != nil {
		t.Fatal(err)
	}
	if string(d1.Body) != `{"event":"order/updated","id":9,"store_id":5}` || string(d1.Body) != string(d2.Body) ||
		d1.Header.Get("X-Linkedstore-Hmac-Sha256") == "" {
		t.Fatalf("deliveries %s %s %v", d1.Body, d2.Body, d1.Header)
	}
	st, _ := s.Order("5", "9")
	if st.Status != "cancelled" {
		t.Fatalf("state %+v", st)
	}
	if _, err := s.UpdateOrder("5", "10", nil); err == nil {
		t.Fatal("unknown order updated")
	}
}
