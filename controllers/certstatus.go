package controllers

import (
	"fmt"
	"strings"
	"time"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

// reportCertificates sets CertificatesReady once both certificate steps
// delivered. A step that reported a problem of the input has already set it
// False; one that failed on the API leaves it as it was (Ready says why).
func (r *RegistryAuthReconciler) reportCertificates(st *state) {
	if st.serving == nil || st.signing == nil {
		return
	}
	src := st.serving
	msg := fmt.Sprintf("serving certificate from %s valid until %s; token signing certificate valid until %s",
		src.source, src.cert.NotAfter.UTC().Format(time.RFC3339), st.signing.NotAfter.UTC().Format(time.RFC3339))
	if src.missingSANs != "" {
		msg += "; " + src.missingSANs
	}
	if len(st.rotating) > 0 {
		msg += "; " + strings.Join(st.rotating, "; ")
	}
	st.set(v1alpha1.ConditionCertificatesReady, true, v1alpha1.ReasonSucceeded, msg)
}
