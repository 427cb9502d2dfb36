package keys

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The settings, each given as a value or as a file holding it.
const (
	SecretsKeyEnv     = "PONTE_SECRETS_KEY"
	SecretsKeyFileEnv = "PONTE_SECRETS_KEY_FILE"
	PepperEnv         = "PONTE_KEY_PEPPER"
	PepperFileEnv     = "PONTE_KEY_PEPPER_FILE"
	// SecretsKeyFile and PepperFile are the files generated in the data directory when
	// neither setting is given (embedded backend only).
	SecretsKeyFile = "secrets.key"
	PepperFile     = "key-pepper"
)

// material says where one secret setting comes from.
type material struct {
	name    string // for messages
	env     string // holds the value itself
	fileEnv string // names a file holding it
	// defaultFile is read, or created with generate, when neither variable is set;
	// "" means there is no default and the value is simply absent.
	defaultFile string
	generate    func() (string, error)
	// advice follows the news of a generated file: what losing it costs.
	advice string
}

// load returns the value and where it came from (a variable or a path, never the value).
func (m material) load(log *slog.Logger) (value, origin string, err error) {
	inline, path := os.Getenv(m.env), os.Getenv(m.fileEnv)
	switch {
	case inline != "" && path != "":
		return "", "", fmt.Errorf("%s and %s: set one, not both", m.env, m.fileEnv)
	case inline != "":
		return inline, "$" + m.env, nil
	case path != "":
		v, err := readKeyFile(path, log)
		if err != nil {
			return "", "", fmt.Errorf("%s: %w", m.fileEnv, err)
		}
		return v, path, nil
	case m.defaultFile == "":
		return "", "", nil
	}
	v, err := readKeyFile(m.defaultFile, log)
	if err == nil {
		return v, m.defaultFile, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", "", err
	}
	v, err = m.generate()
	if err != nil {
		return "", "", err
	}
	// O_EXCL: two processes starting on one data directory must not each write their own.
	f, err := os.OpenFile(m.defaultFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		v, err = readKeyFile(m.defaultFile, log)
		return v, m.defaultFile, err
	}
	if err != nil {
		return "", "", fmt.Errorf("create %s file: %w", m.name, err)
	}
	_, werr := f.WriteString(v + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		_ = os.Remove(m.defaultFile)
		return "", "", fmt.Errorf("write %s file %s: %w", m.name, m.defaultFile, err)
	}
	log.Warn("generated a "+m.name+" file: "+m.advice+" ("+m.env+" or "+m.fileEnv+" bring your own)", "path", m.defaultFile)
	return v, m.defaultFile, nil
}

// readKeyFile reads a key file, warning when others than its owner may read it.
func readKeyFile(path string, log *slog.Logger) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if st.Mode().Perm()&0o077 != 0 {
		log.Warn("key file readable by group or others: chmod 600 it", "path", path, "mode", st.Mode().Perm().String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// LoadKeyring loads the keyring sealing credentials at rest: PONTE_SECRETS_KEY (a spec,
// see ParseKeyring), PONTE_SECRETS_KEY_FILE (a file holding one), or dataDir/secrets.key,
// generated with mode 0600 on first start.
func LoadKeyring(dataDir string, log *slog.Logger) (*Keyring, error) {
	m := material{name: "secrets key", env: SecretsKeyEnv, fileEnv: SecretsKeyFileEnv,
		defaultFile: filepath.Join(dataDir, SecretsKeyFile), generate: func() (string, error) { return NewKeyringSpec(time.Now()) },
		advice: "the stored credentials cannot be read without it; back it up, apart from the data"}
	spec, origin, err := m.load(log)
	if err != nil {
		return nil, err
	}
	k, err := ParseKeyring(spec)
	if err != nil {
		return nil, fmt.Errorf("secrets key from %s: %w", origin, err)
	}
	log.Info("credentials sealed at rest", "keyring", origin, "current_key", k.Current(), "keys", len(k.aeads))
	return k, nil
}

// LoadHasher loads the pepper keying API and operator key hashes: PONTE_KEY_PEPPER,
// PONTE_KEY_PEPPER_FILE, or (when dataDir is not "") dataDir/key-pepper, generated with
// mode 0600 on first start. With neither and no dataDir it returns a nil *Hasher, which
// hashes unkeyed, and says so.
func LoadHasher(dataDir string, log *slog.Logger) (*Hasher, error) {
	m := material{name: "key pepper", env: PepperEnv, fileEnv: PepperFileEnv, generate: NewPepper,
		advice: "API and operator keys are hashed with it; should it be lost, the next start makes a new one and the setup re-hashes the keys"}
	if dataDir != "" {
		m.defaultFile = filepath.Join(dataDir, PepperFile)
	}
	pepper, origin, err := m.load(log)
	if err != nil {
		return nil, err
	}
	if origin == "" {
		log.Warn("no " + PepperEnv + " or " + PepperFileEnv + ": API and operator keys are stored as unkeyed SHA-256")
		return nil, nil
	}
	h, err := NewHasher(pepper)
	if err != nil {
		return nil, fmt.Errorf("key pepper from %s: %w", origin, err)
	}
	return h, nil
}
