package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ponte-hub/ponte/internal/app"
	"github.com/ponte-hub/ponte/internal/secrets/keys"
	storesqlite "github.com/ponte-hub/ponte/internal/store/sqlite"
)

// onDisk reports whether value appears in any of the embedded store's files.
func onDisk(t *testing.T, dir, value string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "state.db*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no store files in %s: %v", dir, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(value)) {
			return true
		}
	}
	return false
}

func openEmbeddedIn(t *testing.T, dir string) (*app.Hub, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	hub, err := app.OpenEmbedded(context.Background(), dir, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("open embedded hub: %v", err)
	}
	return hub, &logs
}

// TestEmbeddedSecretsSealedAtRest follows a data directory through its life: credentials
// stored in plain text by an earlier version are sealed at the first start (which
// generates the key file, 0600, and says so), the setup's credentials are sealed too and
// read back whole, no credential is left readable in the store's files, and a rotated key
// takes over while the old one still opens what it sealed, without a stop in between.
func TestEmbeddedSecretsSealedAtRest(t *testing.T) {
	for _, name := range []string{keys.SecretsKeyEnv, keys.SecretsKeyFileEnv, keys.PepperEnv, keys.PepperFileEnv} {
		t.Setenv(name, "")
	}
	ctx := context.Background()
	dir := t.TempDir()
	const legacyToken, setupSecret = "legacy-plaintext-token-4242", "cs-very-secret-value-7777"

	// An earlier version's data directory: credentials in plain text.
	raw, err := storesqlite.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	// Long values, a few of them: SQLite would leave the old bytes of rewritten rows in
	// free space had the start not rebuilt the file.
	for _, ref := range []string{"legacy/conn", "legacy/other-1", "legacy/other-2"} {
		if err := raw.PutSecret(ctx, ref, map[string]string{"access_token": legacyToken, "refresh_token": strings.Repeat("r", 300)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	if !onDisk(t, dir, legacyToken) {
		t.Fatal("test premise: the plain-text token is not in the file")
	}

	hub, logs := openEmbeddedIn(t, dir)
	keyFile := filepath.Join(dir, keys.SecretsKeyFile)
	if st, err := os.Stat(keyFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v, want mode 0600", st, err)
	}
	spec, _ := os.ReadFile(keyFile)
	if !strings.Contains(logs.String(), keyFile) || !strings.Contains(logs.String(), `"secrets":3`) || strings.Contains(logs.String(), strings.TrimSpace(string(spec))) {
		t.Fatalf("the log must name the generated key file and the re-sealed secret, never the key:\n%s", logs)
	}
	s := validSetup()
	s.Secrets["acme-tray-1"]["consumer_secret"] = setupSecret
	if err := hub.ApplySetup(ctx, s); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string][2]string{"legacy/conn": {"access_token", legacyToken}, "acme-tray-1": {"consumer_secret", setupSecret}} {
		got, err := hub.Secrets.GetSecret(ctx, ref)
		if err != nil || got[want[0]] != want[1] {
			t.Fatalf("secret %s: %v %v", ref, got, err)
		}
	}
	if strings.Contains(logs.String(), setupSecret) || strings.Contains(logs.String(), legacyToken) {
		t.Fatalf("a credential reached the log:\n%s", logs)
	}
	if err := hub.Close(); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{legacyToken, setupSecret} {
		if onDisk(t, dir, v) {
			t.Errorf("%q readable in the store's files", v)
		}
	}
	// Without the keyring the store refuses the sealed value instead of returning it.
	raw, err = storesqlite.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.GetSecret(ctx, "acme-tray-1"); err == nil || !strings.Contains(err.Error(), "sealed") {
		t.Errorf("plain read of a sealed secret: %v", err)
	}
	_ = raw.Close()

	// Rotation: a new key first, the generated one after it.
	oldSpec := strings.TrimSpace(string(spec))
	newSpec := "k2:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	cases := []struct {
		name     string
		ring     string
		errHas   string // "" means the credentials read back
		resealed bool   // the start re-seals under the ring's current key
	}{
		{name: "new key added in front", ring: newSpec + "," + oldSpec, resealed: true},
		{name: "again: nothing left to re-seal", ring: newSpec + "," + oldSpec},
		{name: "old key dropped", ring: newSpec},
		{name: "a ring without the values' key", ring: oldSpec, errHas: `"k2"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(keys.SecretsKeyEnv, tc.ring)
			var logs bytes.Buffer
			hub, err := app.OpenEmbedded(ctx, dir, slog.New(slog.NewJSONHandler(&logs, nil)))
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("open: %v, want an error naming the missing key %s", err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer hub.Close()
			if got := strings.Contains(logs.String(), "re-sealed"); got != tc.resealed {
				t.Errorf("re-sealed at start: %v, want %v\n%s", got, tc.resealed, logs.String())
			}
			got, err := hub.Secrets.GetSecret(ctx, "acme-tray-1")
			if err != nil || got["consumer_secret"] != setupSecret {
				t.Fatalf("after rotation: %v %v", got, err)
			}
			// A write (a refreshed token, say) is sealed under the current key.
			got["access_token"] = "tok-refreshed"
			if err := hub.Secrets.PutSecret(ctx, "acme-tray-1", got); err != nil {
				t.Fatal(err)
			}
		})
	}
}
