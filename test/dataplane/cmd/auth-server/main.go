// Command auth-server runs authserver.Main exactly as the operator binary's
// `auth-server` subcommand does. The data-plane tests build this small
// binary instead of the whole operator, so they depend on nothing but the
// token server.
package main

import (
	"os"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver"
)

func main() {
	os.Exit(authserver.Main(os.Args[1:]))
}
