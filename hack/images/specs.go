package main

import "github.com/google/go-containerregistry/pkg/v1"

// Image references the local cluster and the chart use. The registry is
// tagged like Docker Hub's official image so the operator's default
// `registry:3` resolves on the node without a pull.
const (
	operatorRepo = "localhost/registry-auth-operator"
	registryRepo = "docker.io/library/registry"
	registryTag  = "3"
	pauseRepo    = "localhost/registry-auth-operator/pause"
	pauseTag     = "3.10"
	corednsRepo  = "localhost/registry-auth-operator/coredns"
	corednsTag   = "v1.14.7"
	probeRepo    = "localhost/registry-auth-operator/e2e-probe"
	// The docker_auth provider's default image name, so a RegistryAuth with
	// provider docker_auth and no image resolves on the node without a pull.
	// A test image: the prebuilt binary of ../shared/thirdparty/docker_auth,
	// laid out as the official image lays it out.
	dockerAuthRepo = "docker.io/cesanta/docker_auth"
	dockerAuthTag  = "1.14.0"
)

const (
	nonRoot = 65532
	envPath = "PATH=/usr/local/bin:/usr/bin:/bin"
	caFile  = "/etc/ssl/certs/ca-certificates.crt"
)

// base is what every image carries besides its binary: users for tools that
// look them up, the machine's CA bundle (Debian's ca-certificates) for
// outbound TLS, and a sticky /tmp.
func base(hostCA []byte) []file {
	return []file{
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{Path: "/etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{Path: caFile, Mode: 0o644, Data: hostCA},
		{Path: "/tmp", Dir: true, Mode: 0o1777},
		{Path: "/home/nonroot", Dir: true, Mode: 0o700, UID: nonRoot, GID: nonRoot},
	}
}

// registryConfig is the image's default config, for running it on its own.
// The operator mounts its rendered config over it. Ports follow the
// operator's pod layout: API on 5001, debug server (health, metrics) on 5002.
const registryConfig = `# Default configuration of this image when run on its own; the operator
# mounts its own rendered config over this file.
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5001
  headers:
    X-Content-Type-Options: [nosniff]
  debug:
    addr: :5002
    prometheus:
      enabled: true
      path: /metrics
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
`

func operatorImage(bin string, hostCA []byte) image {
	return image{
		Repo:  operatorRepo,
		Files: append(base(hostCA), file{Path: "/manager", Src: bin, Mode: 0o755}),
		Config: v1.Config{
			Entrypoint: []string{"/manager"},
			Env:        []string{envPath},
			User:       "65532:65532",
			WorkingDir: "/",
			Labels:     map[string]string{"org.opencontainers.image.title": "registry-auth-operator"},
		},
	}
}

func registryImage(bin string, hostCA []byte) image {
	return image{
		Repo: registryRepo,
		Tag:  registryTag,
		Files: append(base(hostCA),
			file{Path: "/bin/registry", Src: bin, Mode: 0o755},
			file{Path: "/etc/distribution/config.yml", Data: []byte(registryConfig), Mode: 0o644},
			file{Path: "/var/lib/registry", Dir: true, Mode: 0o755},
		),
		Config: v1.Config{
			Entrypoint: []string{"registry"},
			Cmd:        []string{"serve", "/etc/distribution/config.yml"},
			// No trace collector runs by default: without this the registry
			// logs an export error every few seconds.
			Env:          []string{envPath, "OTEL_TRACES_EXPORTER=none"},
			ExposedPorts: map[string]struct{}{"5001/tcp": {}, "5002/tcp": {}},
			Volumes:      map[string]struct{}{"/var/lib/registry": {}},
			Labels:       map[string]string{"org.opencontainers.image.version": "v3.1.2"},
		},
	}
}

func pauseImage(bin string) image {
	return image{
		Repo:   pauseRepo,
		Tag:    pauseTag,
		Files:  []file{{Path: "/pause", Src: bin, Mode: 0o755}},
		Config: v1.Config{Entrypoint: []string{"/pause"}, User: "65535:65535"},
	}
}

func corednsImage(bin string, hostCA []byte) image {
	return image{
		Repo:  corednsRepo,
		Tag:   corednsTag,
		Files: append(base(hostCA), file{Path: "/coredns", Src: bin, Mode: 0o755}),
		Config: v1.Config{
			Entrypoint:   []string{"/coredns"},
			Env:          []string{envPath},
			User:         "65532:65532",
			ExposedPorts: map[string]struct{}{"1053/udp": {}, "1053/tcp": {}},
		},
	}
}

func probeImage(bin string, hostCA []byte) image {
	return image{
		Repo:   probeRepo,
		Files:  append(base(hostCA), file{Path: "/probe", Src: bin, Mode: 0o755}),
		Config: v1.Config{Entrypoint: []string{"/probe"}, Env: []string{envPath}, User: "65532:65532"},
	}
}

// dockerAuthImage lays auth_server out as cesanta/docker_auth:1.14.0 does:
// /docker_auth/auth_server, default command /config/auth_config.yml (where
// the operator mounts its rendered config). It holds nothing of docker_auth
// but the binary the tests are given.
func dockerAuthImage(bin string, hostCA []byte) image {
	return image{
		Repo:  dockerAuthRepo,
		Tag:   dockerAuthTag,
		Files: append(base(hostCA), file{Path: "/docker_auth/auth_server", Src: bin, Mode: 0o755}),
		Config: v1.Config{
			Entrypoint:   []string{"/docker_auth/auth_server"},
			Cmd:          []string{"/config/auth_config.yml"},
			Env:          []string{envPath},
			ExposedPorts: map[string]struct{}{"5001/tcp": {}},
			Labels: map[string]string{
				"org.opencontainers.image.version":     "1.14.0",
				"org.opencontainers.image.description": "test image: docker_auth 1.14 from ../shared/thirdparty/docker_auth, laid out like the official image",
			},
		},
	}
}
