//go:build tools

// Package tools pins the commands hack/build-tools.sh builds from this module.
package tools

import (
	_ "github.com/distribution/distribution/v3/cmd/registry"
)
