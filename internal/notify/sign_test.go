package notify

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Vectors computed outside this package: the first with Python's hmac module, the
// second is the one the Standard Webhooks reference libraries test against.
var vectors = []struct {
	name, secret, id string
	unix             int64
	body, want       string
}{
	{"python", "whsec_cG9udGUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZiE=", "evt_1", 1700000000, `{"a":1}`,
		"v1,1cDRHEDtv5TH5tNN52n9Rh38WlY00sw+bSpFfI/1Jl4="},
	{"spec", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, `{"test": 2432232314}`,
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
}

func TestSignVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			got, err := Sign(v.secret, v.id, time.Unix(v.unix, 0), []byte(v.body))
			if err != nil {
				t.Fatal(err)
			}
			if got != v.want {
				t.Fatalf("Sign = %s, want %s", got, v.want)
			}
		})
	}
}

func headers(id string, unix int64, sig string) http.Header {
	h := http.Header{}
	if id != "" {
		h.Set(HeaderID, id)
	}
	if unix != 0 {
		h.Set(HeaderTimestamp, strconv.FormatInt(unix, 10))
	}
	if sig != "" {
		h.Set(HeaderSignature, sig)
	}
	return h
}

// rawHeaders sets the three headers as given (Set canonicalises the names, as a server does).
func rawHeaders(id, ts, sig string) http.Header {
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, sig)
	return h
}

func TestVerify(t *testing.T) {
	v := vectors[0]
	at := time.Unix(v.unix, 0)
	body := []byte(v.body)
	other := "whsec_" + "b3RoZXIta2V5" // base64("other-key")
	tests := []struct {
		name    string
		secret  string
		header  http.Header
		body    []byte
		now     time.Time
		tol     time.Duration
		wantErr error
	}{
		{"valid", v.secret, headers(v.id, v.unix, v.want), body, at, 0, nil},
		{"secret without prefix", v.secret[len("whsec_"):], headers(v.id, v.unix, v.want), body, at, 0, nil},
		{"one of several signatures", v.secret, headers(v.id, v.unix, "v1,AAAA v2,xyz "+v.want+" v1,!!"), body, at, 0, nil},
		{"within tolerance late", v.secret, headers(v.id, v.unix, v.want), body, at.Add(5 * time.Minute), 0, nil},
		{"within tolerance early", v.secret, headers(v.id, v.unix, v.want), body, at.Add(-5 * time.Minute), 0, nil},
		{"too old", v.secret, headers(v.id, v.unix, v.want), body, at.Add(5*time.Minute + time.Second), 0, ErrTimestamp},
		{"from the future", v.secret, headers(v.id, v.unix, v.want), body, at.Add(-time.Hour), 0, ErrTimestamp},
		{"custom tolerance", v.secret, headers(v.id, v.unix, v.want), body, at.Add(time.Hour), 2 * time.Hour, nil},
		{"tampered body", v.secret, headers(v.id, v.unix, v.want), []byte(`{"a":2}`), at, 0, ErrSignature},
		{"other id", v.secret, headers("evt_2", v.unix, v.want), body, at, 0, ErrSignature},
		{"wrong secret", other, headers(v.id, v.unix, v.want), body, at, 0, ErrSignature},
		{"other version only", v.secret, headers(v.id, v.unix, "v1a,"+v.want[3:]), body, at, 0, ErrSignature},
		{"no id", v.secret, headers("", v.unix, v.want), body, at, 0, ErrMissingHeader},
		{"no timestamp", v.secret, headers(v.id, 0, v.want), body, at, 0, ErrMissingHeader},
		{"no signature", v.secret, headers(v.id, v.unix, ""), body, at, 0, ErrMissingHeader},
		{"timestamp not a number", v.secret, rawHeaders(v.id, "2023-11-14", v.want), body, at, 0, ErrTimestamp},
		{"bad secret", "whsec_%%%", headers(v.id, v.unix, v.want), body, at, 0, ErrSecret},
		{"empty secret", "whsec_", headers(v.id, v.unix, v.want), body, at, 0, ErrSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.header, tt.body, tt.tol, tt.now)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestSignRejects(t *testing.T) {
	if _, err := Sign(vectors[0].secret, "", time.Now(), nil); !errors.Is(err, ErrMissingHeader) {
		t.Errorf("empty id: %v", err)
	}
	if _, err := Sign("whsec_not base64", "evt", time.Now(), nil); !errors.Is(err, ErrSecret) {
		t.Errorf("bad secret: %v", err)
	}
}

// FuzzVerify feeds garbage headers and bodies: Verify must never panic, and must accept
// only what it was given a genuine signature for.
func FuzzVerify(f *testing.F) {
	v := vectors[0]
	f.Add(v.id, strconv.FormatInt(v.unix, 10), v.want, []byte(v.body))
	f.Add("", "", "", []byte(nil))
	f.Add("x", "-9223372036854775808", "v1,", []byte("{}"))
	f.Add("x", "9223372036854775807", "v1,==== v1", []byte("{}"))
	f.Add("x.y", "1700000000", "v1,"+v.want[3:]+" v1 ,, v1,,", []byte(`{"a":1}`))
	now := time.Unix(v.unix, 0)
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := rawHeaders(id, ts, sig)
		err := Verify(v.secret, h, body, 0, now)
		if err != nil {
			return
		}
		// Accepted: it must be the genuine signature of exactly this id, time and body.
		unix, perr := strconv.ParseInt(ts, 10, 64)
		if perr != nil {
			t.Fatalf("accepted a non-numeric timestamp %q", ts)
		}
		want, serr := Sign(v.secret, id, time.Unix(unix, 0), body)
		if serr != nil {
			t.Fatalf("accepted what cannot be signed: %v", serr)
		}
		wantMAC, _ := base64.StdEncoding.DecodeString(want[3:])
		found := false
		for _, s := range strings.Fields(sig) {
			got, derr := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "v1,"))
			found = found || (strings.HasPrefix(s, "v1,") && derr == nil && bytes.Equal(got, wantMAC))
		}
		if !found {
			t.Fatalf("accepted %q without the genuine signature %q", sig, want)
		}
	})
}
