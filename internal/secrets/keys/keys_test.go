package keys_test

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/secrets/keys"
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func key(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }

func TestParseKeyring(t *testing.T) {
	cases := []struct {
		name    string
		spec    string
		current string
		errHas  string // "" means valid
	}{
		{name: "one key", spec: "k1:" + key(1), current: "k1"},
		{name: "first is current", spec: "k2:" + key(2) + ",k1:" + key(1), current: "k2"},
		{name: "a file with comments and newlines", spec: "# rotated 2025-03\nk2:" + key(2) + "\n\nk1:" + key(1) + "\n", current: "k2"},
		{name: "unpadded base64", spec: "k1:" + strings.TrimRight(key(1), "="), current: "k1"},
		{name: "empty", spec: "", errHas: "no key"},
		{name: "only a comment", spec: "# nothing", errHas: "no key"},
		{name: "no id", spec: key(1), errHas: "key 1: want id:base64"},
		{name: "bad id", spec: "k 1:" + key(1), errHas: "key 1"},
		{name: "short key", spec: "k1:" + base64.StdEncoding.EncodeToString([]byte("sixteen bytes!!!")), errHas: "key 1 (k1): want 32 bytes"},
		{name: "not base64", spec: "k1:***", errHas: "key 1 (k1)"},
		{name: "id twice", spec: "k1:" + key(1) + ",k1:" + key(2), errHas: "key 2 (k1): id used twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := keys.ParseKeyring(tc.spec)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("error %v, want one containing %q", err, tc.errHas)
				}
				if strings.Contains(err.Error(), key(1)) || strings.Contains(err.Error(), key(2)) {
					t.Fatalf("the error quotes the key: %v", err)
				}
				return
			}
			if err != nil || k.Current() != tc.current {
				t.Fatalf("keyring %v, %v; want current %s", k, err, tc.current)
			}
		})
	}
}

// TestKeyringRotation: a value sealed under k1 opens under the ring "k2,k1" and is then
// sealed under k2; a ring without the value's key, another name or an altered value fail.
func TestKeyringRotation(t *testing.T) {
	old, err := keys.ParseKeyring("k1:" + key(1))
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := keys.ParseKeyring("k2:" + key(2) + " k1:" + key(1))
	if err != nil {
		t.Fatal(err)
	}
	onlyNew, err := keys.ParseKeyring("k2:" + key(2))
	if err != nil {
		t.Fatal(err)
	}
	plain, name := []byte(`{"access_token":"tok-very-secret"}`), []byte("conn/c1")
	sealed, err := old.Seal(plain, name)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "tok-very-secret") {
		t.Fatalf("sealed value shows the plaintext: %s", sealed)
	}
	if id, ok := keys.KeyID(sealed); !ok || id != "k1" {
		t.Fatalf("key id of %s: %q %v", sealed, id, ok)
	}
	again, err := old.Seal(plain, name)
	if err != nil || again == sealed {
		t.Fatalf("two seals of one value are equal (nonce reused?): %v", err)
	}
	resealed, err := rotated.Seal(plain, name)
	if err != nil {
		t.Fatal(err)
	}
	tamper := []byte(sealed)
	tamper[len(tamper)-3] ^= 1
	cases := []struct {
		name   string
		ring   *keys.Keyring
		value  string
		aad    []byte
		errHas string
	}{
		{name: "old key", ring: old, value: sealed, aad: name},
		{name: "rotated ring opens the old value", ring: rotated, value: sealed, aad: name},
		{name: "rotated ring seals under the new key", ring: onlyNew, value: resealed, aad: name},
		{name: "old key dropped too early", ring: onlyNew, value: sealed, aad: name, errHas: `key "k1", which the keyring does not hold`},
		{name: "moved to another name", ring: old, value: sealed, aad: []byte("conn/c2"), errHas: "does not authenticate"},
		{name: "altered", ring: old, value: string(tamper), aad: name, errHas: "k1"},
		{name: "plain text", ring: old, value: string(plain), aad: name, errHas: "not a sealed value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.ring.Open(tc.value, tc.aad)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("error %v, want one containing %q", err, tc.errHas)
				}
				return
			}
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("open: %q %v", got, err)
			}
		})
	}
	if id, _ := keys.KeyID(resealed); id != "k2" {
		t.Fatalf("rotated ring sealed under %q", id)
	}
}

func TestHasher(t *testing.T) {
	h1, err := keys.NewHasher("pepper-one-0123456789abcdef0123456789\n")
	if err != nil {
		t.Fatal(err)
	}
	h2, err := keys.NewHasher("pepper-two-0123456789abcdef0123456789")
	if err != nil {
		t.Fatal(err)
	}
	var unkeyed *keys.Hasher
	const k = "acme-erp-key-0000000000001"
	switch {
	case h1.Hash(k) == h2.Hash(k):
		t.Error("two peppers give one hash")
	case h1.Hash(k) == keys.LegacyHash(k):
		t.Error("keyed hash equals the unkeyed one")
	case h1.Hash(k) != must(keys.NewHasher("pepper-one-0123456789abcdef0123456789")).Hash(k):
		t.Error("one pepper gives two hashes")
	case unkeyed.Hash(k) != keys.LegacyHash(k):
		t.Error("nil hasher is not the unkeyed hash")
	case keys.LegacyHash("abc") != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad":
		t.Error("legacy hash is not hex SHA-256 (FIPS 180-2 vector)")
	}
	if c := h1.Candidates(k); len(c) != 2 || c[0] != h1.Hash(k) || c[1] != keys.LegacyHash(k) {
		t.Errorf("candidates %v", c)
	}
	if c := unkeyed.Candidates(k); len(c) != 1 || c[0] != keys.LegacyHash(k) {
		t.Errorf("unkeyed candidates %v", c)
	}
	if _, err := keys.NewHasher("short"); err == nil || !strings.Contains(err.Error(), "at least 32 bytes") {
		t.Errorf("short pepper: %v", err)
	}
}

// TestLoad: the settings, in order: the variable, the file it names, the file in the data
// directory (generated 0600 on first start, logged by path, never by value).
func TestLoad(t *testing.T) {
	spec := "k9:" + key(9)
	pepper := "pepper-from-env-0123456789abcdef0123"
	cases := []struct {
		name string
		env  map[string]string
		// files to write under the temporary directory, by name
		files   map[string]string
		current string // keyring's current key id; "" means generated
		errHas  string
	}{
		{name: "generated on first start"},
		{name: "inline", env: map[string]string{keys.SecretsKeyEnv: spec, keys.PepperEnv: pepper}, current: "k9"},
		{name: "from files", env: map[string]string{keys.SecretsKeyFileEnv: "own.key", keys.PepperFileEnv: "own.pepper"},
			files: map[string]string{"own.key": spec + "\n", "own.pepper": pepper + "\n"}, current: "k9"},
		{name: "the data dir's file", files: map[string]string{keys.SecretsKeyFile: spec}, current: "k9"},
		{name: "both forms", env: map[string]string{keys.SecretsKeyEnv: spec, keys.SecretsKeyFileEnv: "own.key"}, errHas: "set one, not both"},
		{name: "named file missing", env: map[string]string{keys.SecretsKeyFileEnv: "nope.key"}, errHas: keys.SecretsKeyFileEnv},
		{name: "bad key", env: map[string]string{keys.SecretsKeyEnv: "k1:abc"}, errHas: "secrets key from $" + keys.SecretsKeyEnv},
		{name: "short pepper", env: map[string]string{keys.PepperEnv: "short"}, errHas: "key pepper from $" + keys.PepperEnv},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range []string{keys.SecretsKeyEnv, keys.SecretsKeyFileEnv, keys.PepperEnv, keys.PepperFileEnv} {
				v := tc.env[name]
				if strings.HasSuffix(name, "_FILE") && v != "" {
					v = filepath.Join(dir, v)
				}
				t.Setenv(name, v)
			}
			for name, content := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			ring, err := keys.LoadKeyring(dir, log)
			var h *keys.Hasher
			if err == nil {
				h, err = keys.LoadHasher(dir, log)
			}
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("error %v, want one containing %q", err, tc.errHas)
				}
				return
			}
			if err != nil || h == nil {
				t.Fatalf("load: %v (hasher %v)", err, h)
			}
			if tc.current != "" && ring.Current() != tc.current {
				t.Fatalf("current key %s, want %s", ring.Current(), tc.current)
			}
			if tc.current == "" {
				for _, name := range []string{keys.SecretsKeyFile, keys.PepperFile} {
					st, err := os.Stat(filepath.Join(dir, name))
					if err != nil || st.Mode().Perm() != 0o600 {
						t.Fatalf("generated %s: %v %v, want mode 0600", name, st, err)
					}
					content, _ := os.ReadFile(filepath.Join(dir, name))
					if !strings.Contains(logs.String(), filepath.Join(dir, name)) || strings.Contains(logs.String(), strings.TrimSpace(string(content))) {
						t.Fatalf("log must name %s, never its content:\n%s", name, logs.String())
					}
				}
				// The next start reads the same files.
				again, err := keys.LoadKeyring(dir, log)
				if err != nil || again.Current() != ring.Current() {
					t.Fatalf("second start: %v %v", again, err)
				}
				sealed, _ := ring.Seal([]byte("x"), nil)
				if _, err := again.Open(sealed, nil); err != nil {
					t.Fatalf("second start cannot open the first's values: %v", err)
				}
				h2, _ := keys.LoadHasher(dir, log)
				if h2.Hash("k") != h.Hash("k") {
					t.Fatal("second start hashes differently")
				}
			}
		})
	}
	// No data dir and no variable: unkeyed, and said so.
	t.Setenv(keys.PepperEnv, "")
	t.Setenv(keys.PepperFileEnv, "")
	var logs bytes.Buffer
	h, err := keys.LoadHasher("", slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil || h != nil || !strings.Contains(logs.String(), "unkeyed") {
		t.Fatalf("no pepper: %v %v %s", h, err, logs.String())
	}
}
