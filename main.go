// Command registry-auth-operator is the operator. One image, several roles:
// without a subcommand it runs the manager (controllers); `auth-server` is the
// token server and front door of every RegistryAuth pod with provider builtin;
// `node-trust` is the agent that makes nodes trust the registries' CAs;
// `credential-provider` is the kubelet's image credential provider plugin.
package main

import (
	"os"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver"
	"github.com/registry-auth-operator/registry-auth-operator/internal/credprovider"
	"github.com/registry-auth-operator/registry-auth-operator/internal/manager"
	"github.com/registry-auth-operator/registry-auth-operator/internal/nodetrust"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "auth-server":
			os.Exit(authserver.Main(os.Args[2:]))
		case "node-trust":
			os.Exit(nodetrust.Main(os.Args[2:]))
		case "credential-provider":
			os.Exit(credprovider.Main(os.Args[2:]))
		}
	}
	os.Exit(manager.Main(os.Args[1:]))
}
