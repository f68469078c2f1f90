//go:build tools

// Package tools pins the commands hack/build-tools.sh builds from this module:
// versitygw, an S3-compatible gateway the data-plane tests run in front of a
// temporary directory (its posix backend) to prove the registry's s3 driver.
package tools

import (
	_ "github.com/versity/versitygw/cmd/versitygw"
)
