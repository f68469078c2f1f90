package authconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// MaxFileSize bounds the config file: a rendered config is a few KiB; a file
// far larger is a mistake, not a config.
const MaxFileSize = 4 << 20

// Load reads, parses and validates the config file at path. It also returns
// the keys present in the file that this schema does not define (docker_auth
// options the builtin server does not implement, or typos), so the caller can
// report them instead of silently ignoring them.
func Load(path string) (*Config, []string, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, nil, err
	}
	return Parse(data)
}

// Parse is Load on bytes.
func Parse(data []byte) (*Config, []string, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, nil, fmt.Errorf("config is not valid YAML: %w", err)
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil, nil, errors.New("config is empty")
	}
	var generic any
	if err := json.Unmarshal(js, &generic); err != nil {
		return nil, nil, fmt.Errorf("config is not valid YAML: %w", err)
	}
	if _, ok := generic.(map[string]any); !ok {
		return nil, nil, errors.New("config must be a mapping at the top level")
	}
	var c Config
	if err := json.Unmarshal(js, &c); err != nil {
		return nil, nil, fmt.Errorf("config has a value of the wrong type: %w", describeTypeError(err))
	}
	unsupported := append(unknownKeys(generic, &c), unknownPlaceholders(&c)...)
	sort.Strings(unsupported)
	if err := Validate(&c); err != nil {
		return nil, unsupported, err
	}
	return &c, unsupported, nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("config %s is larger than %d bytes", path, MaxFileSize)
	}
	return data, nil
}

// describeTypeError turns encoding/json's type error into one that names the
// config path and the kinds involved, never the value (it may be a password
// written in the wrong place).
func describeTypeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		kind, _, _ := strings.Cut(te.Value, " ")
		return fmt.Errorf("%s: expected %s, got %s", te.Field, te.Type, kind)
	}
	return errors.New("a value has the wrong type")
}
