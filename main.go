// Command registry-auth-operator is the operator; its `auth-server`
// subcommand is the token server and front door of every RegistryAuth pod
// with provider builtin (one image, two roles).
package main

import (
	"os"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "auth-server" {
		os.Exit(authserver.Main(os.Args[2:]))
	}
	// The manager (controllers) is started below this line; see controllers/.
	os.Stderr.WriteString("registry-auth-operator: the manager is not wired in yet; use the auth-server subcommand\n")
	os.Exit(2)
}
