package controllers

import (
	"context"
	"strings"
	"testing"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// spec.expose.trustedProxies takes addresses and CIDRs only, checked at
// admission.
func TestTrustedProxiesAdmission(t *testing.T) {
	ns := newNamespace(t)
	for name, c := range map[string]struct {
		value []v1alpha1.ProxyAddress
		ok    bool
	}{
		"good":     {[]v1alpha1.ProxyAddress{"10.244.0.0/16", "192.0.2.7", "fd00::/8"}, true},
		"hostname": {[]v1alpha1.ProxyAddress{"ingress.example"}, false},
		"badmask":  {[]v1alpha1.ProxyAddress{"10.0.0.0/33"}, false},
	} {
		ra := classicRA(ns, name)
		ra.Spec.Expose.TrustedProxies = c.value
		err := k8s.Create(context.Background(), ra)
		if c.ok && err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !c.ok && (err == nil || !strings.Contains(err.Error(), "must be an IP address or a CIDR")) {
			t.Errorf("%s: accepted or unclear: %v", name, err)
		}
	}
}
