// Package credprovider is the kubelet's image credential provider plugin
// (the `credential-provider` subcommand): the kubelet hands it the
// ServiceAccount token bound to the Pod being pulled for
// (tokenAttributes.serviceAccountTokenAudience in its
// CredentialProviderConfig), and it answers with that token as the
// password for the image's registry. The registry's token server validates
// the token with a TokenReview (a `kubernetes` identity) and the ACL decides
// by namespace and ServiceAccount. docs/workload-identity.md says what the
// kubelet needs.
//
// The plugin holds no secret and keeps no state: each pull's credential is
// the Pod's own token. The kubelet caches the answer; with cacheType Token
// it caches per token, which is the only correct choice, since the
// credential is the token and lives exactly as long.
package credprovider

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	cpv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"

	"github.com/registry-auth-operator/registry-auth-operator/internal/identity"
)

// DefaultUsername is the Basic user name sent with the token; any name that
// is not a password user works (docs/workload-identity.md).
const DefaultUsername = "serviceaccount"

// expiryMargin: the kubelet stops using a cached answer this long before
// the token expires, so a pull never starts with a token about to die.
const expiryMargin = 30 * time.Second

// maxCacheDuration caps what a long-lived token may be cached for.
const maxCacheDuration = time.Hour

const maxRequestBytes = 1 << 20

// Respond reads one request from in and writes the response to out.
func Respond(in io.Reader, out io.Writer, username string, now time.Time) error {
	var req cpv1.CredentialProviderRequest
	dec := json.NewDecoder(io.LimitReader(in, maxRequestBytes))
	if err := dec.Decode(&req); err != nil {
		return fmt.Errorf("reading the CredentialProviderRequest: %w", err)
	}
	if want := cpv1.SchemeGroupVersion.String(); req.APIVersion != want || req.Kind != "CredentialProviderRequest" {
		return fmt.Errorf("request is %s %s, want %s CredentialProviderRequest (set apiVersion: %s in the CredentialProviderConfig)", req.APIVersion, req.Kind, want, want)
	}
	if req.ServiceAccountToken == "" {
		return errors.New("the request carries no serviceAccountToken: set tokenAttributes.serviceAccountTokenAudience (and requireServiceAccount: true) for this provider in the kubelet's CredentialProviderConfig")
	}
	registry, err := registryOf(req.Image)
	if err != nil {
		return err
	}
	resp := cpv1.CredentialProviderResponse{
		TypeMeta:     metav1.TypeMeta{APIVersion: cpv1.SchemeGroupVersion.String(), Kind: "CredentialProviderResponse"},
		CacheKeyType: cpv1.RegistryPluginCacheKeyType,
		Auth:         map[string]cpv1.AuthConfig{registry: {Username: username, Password: req.ServiceAccountToken}},
	}
	// Cache no longer than the token lives. A token without a readable exp
	// is passed on uncached (0s): the token server will refuse it anyway.
	d := time.Duration(0)
	if exp, ok := identity.UnverifiedExpiry(req.ServiceAccountToken); ok {
		d = min(max(exp.Sub(now)-expiryMargin, 0), maxCacheDuration).Truncate(time.Second)
	}
	resp.CacheDuration = &metav1.Duration{Duration: d}
	return json.NewEncoder(out).Encode(resp)
}

// registryOf is the host[:port] of an image reference, the key the kubelet
// matches the answer against. A reference without a registry host (Docker
// Hub's short form) is refused: the kubelet's matchImages should never send
// one here.
func registryOf(image string) (string, error) {
	host, _, ok := strings.Cut(image, "/")
	if !ok || host == "" || !strings.ContainsAny(host, ".:") && host != "localhost" {
		return "", fmt.Errorf("image %q names no registry host: check matchImages in the kubelet's CredentialProviderConfig", image)
	}
	return host, nil
}
