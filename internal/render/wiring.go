package render

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// Ports of the pod (DESIGN §2).
const (
	PortFrontDoor     = 5000 // Service "https": builtin auth front door, or the docker_auth layout's registry TLS
	PortAuthSplit     = 5001 // docker_auth layout: the token server
	PortRegistryHTTP  = 5001 // builtin: plain-HTTP registry, pod-internal
	PortRegistryDebug = 5002 // registry debug server: /debug/health, /metrics
	PortAuthMonitor   = 9090 // builtin auth: /healthz, /readyz, /metrics

	// TokenPath is where the builtin front door answers token requests; the
	// registry's autoredirect realm points there.
	TokenPath = "/auth/token"
	// DockerAuthPath is docker_auth's token endpoint.
	DockerAuthPath = "/auth"
)

// DefaultTokenTTL applies when the spec leaves tokenTTL unset.
const DefaultTokenTTL = 5 * time.Minute

// Wiring is what the registry, the token server and clients must agree on.
type Wiring struct {
	Provider v1alpha1.AuthProvider
	// Service is the token audience: registry auth.token.service == JWT aud.
	Service string
	// Issuer: registry auth.token.issuer == JWT iss.
	Issuer string
	// Realm the registry names in its challenges. For builtin it is only the
	// fallback: autoredirect builds the realm from the host the client used.
	Realm string
	// RealmHost is the host in the docker_auth realm (empty for builtin).
	RealmHost string
	// TokenTTL is how long tokens live.
	TokenTTL time.Duration
	// ServiceDNS is the Service's namespace-qualified DNS name (<svc>.<ns>.svc).
	ServiceDNS string
	// URLs of the registry for each kind of client.
	URLs v1alpha1.RegistryURLs
	// RegistryImage is the registry container's image (spec or default):
	// docker_auth's key IDs depend on its line.
	RegistryImage string
}

// Provider returns the effective provider.
func Provider(ra *v1alpha1.RegistryAuth) v1alpha1.AuthProvider {
	if ra.Spec.Auth.Provider == "" {
		return v1alpha1.ProviderBuiltin
	}
	return ra.Spec.Auth.Provider
}

// Wire derives the wiring. svc is the live Service (nil before it exists):
// its ClusterIP and node ports complete the URLs.
func Wire(ra *v1alpha1.RegistryAuth, opts Options, svc *corev1.Service) Wiring {
	names := NamesFor(ra)
	w := Wiring{
		Provider:   Provider(ra),
		Service:    ra.Spec.Auth.Service,
		Issuer:     ra.Spec.Auth.Issuer,
		TokenTTL:   DefaultTokenTTL,
		ServiceDNS: fmt.Sprintf("%s.%s.svc", names.Service, ra.Namespace),

		RegistryImage: RegistryImage(ra, opts),
	}
	if w.Service == "" {
		w.Service = ra.Name + "." + ra.Namespace
	}
	if w.Issuer == "" {
		w.Issuer = ra.Name + "." + ra.Namespace + ".registryauth.dev"
	}
	if ra.Spec.Auth.TokenTTL != nil && ra.Spec.Auth.TokenTTL.Duration > 0 {
		w.TokenTTL = ra.Spec.Auth.TokenTTL.Duration
	}
	w.URLs.InCluster = httpsURL(w.ServiceDNS, PortFrontDoor)
	if ip := clusterIP(svc); ip != "" {
		w.URLs.Node = httpsURL(ip, PortFrontDoor)
	}
	if h := ra.Spec.Expose.Host; h != "" {
		w.URLs.External = httpsURL(h, externalPort(ra, svc, PortFrontDoor))
	}
	switch w.Provider {
	case v1alpha1.ProviderDockerAuth:
		// The classic layout: a static realm, so its host must be reachable
		// by every client. Without expose.host it is the Service's ClusterIP,
		// which Pods, nodes (kubelet pulls) and a shell on a node all reach
		// and the serving certificate covers; the cluster DNS name is only the
		// fallback before the Service has an address (nodes cannot resolve it).
		w.RealmHost = ra.Spec.Expose.Host
		port := int32(PortAuthSplit)
		if w.RealmHost == "" {
			w.RealmHost = clusterIP(svc)
			if w.RealmHost == "" {
				w.RealmHost = w.ServiceDNS + "." + opts.ClusterDomain
			}
		} else if np := nodePort(svc, PortAuthSplit); np != 0 {
			port = np
		}
		w.Realm = httpsURL(w.RealmHost, port) + DockerAuthPath
	default:
		w.Realm = w.URLs.InCluster + TokenPath
	}
	return w
}

// RealmIsClusterInternal reports whether the docker_auth realm names a host
// only Pods can resolve (before the Service has a ClusterIP).
func (w Wiring) RealmIsClusterInternal(opts Options) bool {
	return w.Provider == v1alpha1.ProviderDockerAuth && w.RealmHost == w.ServiceDNS+"."+opts.ClusterDomain
}

// NodeHostPort is status.urls.node without its scheme ("" before a ClusterIP exists).
func (w Wiring) NodeHostPort() string {
	if w.URLs.Node == "" {
		return ""
	}
	return w.URLs.Node[len("https://"):]
}

// ServingSANs are the names the serving certificate must cover: every DNS
// form of the Service, its ClusterIPs (and the address it is asked to have),
// loopback (port-forward), expose.host
// and tls.extraSANs. Sorted, without duplicates.
func ServingSANs(ra *v1alpha1.RegistryAuth, opts Options, svc *corev1.Service) []string {
	s := NamesFor(ra).Service
	sans := []string{
		s, s + "." + ra.Namespace, s + "." + ra.Namespace + ".svc",
		s + "." + ra.Namespace + ".svc." + opts.ClusterDomain,
		"localhost", "127.0.0.1",
	}
	if svc != nil {
		for _, ip := range svc.Spec.ClusterIPs {
			if net.ParseIP(ip) != nil {
				sans = append(sans, ip)
			}
		}
	}
	// The address the Service is asked to have is covered before the
	// Service holds it, so a recreated Service is trusted from its first
	// request.
	if ip := RequestedClusterIP(ra); net.ParseIP(ip) != nil {
		sans = append(sans, ip)
	}
	if ra.Spec.Expose.Host != "" {
		sans = append(sans, ra.Spec.Expose.Host)
	}
	sans = append(sans, ra.Spec.TLS.ExtraSANs...)
	slices.Sort(sans)
	return slices.Compact(sans)
}

func clusterIP(svc *corev1.Service) string {
	if svc == nil || net.ParseIP(svc.Spec.ClusterIP) == nil {
		return ""
	}
	return svc.Spec.ClusterIP
}

func nodePort(svc *corev1.Service, port int32) int32 {
	if svc == nil {
		return 0
	}
	for _, p := range svc.Spec.Ports {
		if p.Port == port {
			return p.NodePort
		}
	}
	return 0
}

// externalPort is the port clients use at expose.host: explicit, else the
// node port of a NodePort Service, else the Service port.
func externalPort(ra *v1alpha1.RegistryAuth, svc *corev1.Service, port int32) int32 {
	if ra.Spec.Expose.Port != nil {
		return *ra.Spec.Expose.Port
	}
	if ra.Spec.Expose.Service.Type == corev1.ServiceTypeNodePort {
		if np := nodePort(svc, port); np != 0 {
			return np
		}
	}
	return port
}

func httpsURL(host string, port int32) string {
	if port == 443 {
		return "https://" + host
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(int(port)))
}
