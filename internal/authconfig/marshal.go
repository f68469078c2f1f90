package authconfig

import "sigs.k8s.io/yaml"

// Marshal renders c as YAML. Map keys come out sorted, so equal configs give
// equal bytes (the operator relies on that to avoid needless writes).
func Marshal(c *Config) ([]byte, error) {
	return yaml.Marshal(c)
}
