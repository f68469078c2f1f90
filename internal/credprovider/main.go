package credprovider

import (
	"flag"
	"fmt"
	"os"
	"time"
)

// Main runs the plugin: one request on stdin, one response on stdout,
// errors on stderr and a non-zero exit (the kubelet logs them).
func Main(args []string) int {
	fs := flag.NewFlagSet("credential-provider", flag.ContinueOnError)
	username := fs.String("username", DefaultUsername, "Basic user name sent with the ServiceAccount token")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := Respond(os.Stdin, os.Stdout, *username, time.Now()); err != nil {
		fmt.Fprintln(os.Stderr, "credential-provider:", err)
		return 1
	}
	return 0
}
