// Command images builds the project's container images as OCI image archives
// without a Docker daemon: static Go binaries in a single reproducible layer.
//
//	go run ./hack/images [-out bin/images] [-registry-bin F] [-coredns-bin F] [-docker-auth-bin F] [IMAGE...]
//
// IMAGE is operator, registry, pause, coredns, probe or docker_auth (default:
// all; docker_auth only when -docker-auth-bin is given). For each
// it writes OUT/IMAGE.tar (import with `ctr -n k8s.io images import`) and
// OUT/IMAGE.ref, the image reference the archive is named by.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

func main() {
	out := flag.String("out", "bin/images", "output directory")
	registryBin := flag.String("registry-bin", "", "static distribution registry binary (hack/build-tools.sh registry)")
	corednsBin := flag.String("coredns-bin", "", "static coredns binary (hack/build-tools.sh coredns)")
	dockerAuthBin := flag.String("docker-auth-bin", "", "docker_auth's auth_server, a test fixture (hack/build-tools.sh docker_auth)")
	flag.Parse()
	names := flag.Args()
	if len(names) == 0 {
		names = []string{"operator", "registry", "pause", "coredns", "probe"}
		if *dockerAuthBin != "" {
			names = append(names, "docker_auth")
		}
	}
	if err := run(*out, prebuilt{*registryBin, *corednsBin, *dockerAuthBin}, names); err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
}

// recipe says where an image's binary comes from and how it is packaged:
// built here from a package of this module, or prebuilt (from the cache of
// hack/build-tools.sh) and named by a flag.
type recipe struct {
	pkg      string  // Go package to build, or
	prebuilt *string // path given on the command line
	flagName string
	make     func(bin string, hostCA []byte) image
}

// prebuilt are the binaries named on the command line.
type prebuilt struct{ registry, coredns, dockerAuth string }

func run(out string, bins prebuilt, names []string) error {
	recipes := map[string]recipe{
		"operator":    {pkg: ".", make: operatorImage},
		"registry":    {prebuilt: &bins.registry, flagName: "-registry-bin", make: registryImage},
		"pause":       {pkg: "./hack/images/pause", make: func(bin string, _ []byte) image { return pauseImage(bin) }},
		"coredns":     {prebuilt: &bins.coredns, flagName: "-coredns-bin", make: corednsImage},
		"probe":       {pkg: "./test/e2e/probe", make: probeImage},
		"docker_auth": {prebuilt: &bins.dockerAuth, flagName: "-docker-auth-bin", make: dockerAuthImage},
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	hostCA, err := os.ReadFile(caFile)
	if err != nil {
		return fmt.Errorf("CA bundle (Debian package ca-certificates): %w", err)
	}
	for _, name := range names {
		r, ok := recipes[name]
		if !ok {
			return fmt.Errorf("unknown image %q", name)
		}
		var bin string
		if r.pkg != "" {
			bin, err = goBuild(filepath.Join(out, "bin"), name, r.pkg)
		} else {
			bin, err = *r.prebuilt, need(*r.prebuilt, r.flagName)
		}
		if err != nil {
			return err
		}
		if err := save(r.make(bin, hostCA), filepath.Join(out, name)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func need(bin, flagName string) error {
	if bin == "" {
		return fmt.Errorf("%s is required", flagName)
	}
	_, err := os.Stat(bin)
	return err
}

// goBuild builds a static binary: CGO off, because gcc is present and would
// otherwise link against the machine's libc, which the images do not carry.
func goBuild(dir, name, pkg string) (string, error) {
	bin, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s: %w", pkg, err)
	}
	return bin, nil
}

// save writes PREFIX.tar and PREFIX.ref; without a fixed tag the tag is the
// manifest digest's prefix, so a rebuilt binary gets a new reference and
// Deployments using it roll.
func save(im image, prefix string) error {
	img, err := im.build()
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	tag := im.Tag
	if tag == "" {
		tag = "dev-" + digest.Hex[:12]
	}
	ref := im.Repo + ":" + tag
	if err := writeArchive(img, ref, prefix+".tar"); err != nil {
		return err
	}
	fmt.Printf("%s %s %s\n", filepath.Base(prefix), ref, digest)
	return os.WriteFile(prefix+".ref", []byte(ref+"\n"), 0o644)
}
