// Package identity validates workload tokens presented to the token server
// as passwords: OIDC ID tokens (GitHub Actions, GitLab CI, another
// cluster's ServiceAccount issuer) checked against the issuer's discovery
// document and JWKS, and this cluster's ServiceAccount tokens checked with a
// TokenReview. A valid token becomes a Principal: an account name and labels
// mapped from its claims, judged by the same ACL as password users.
//
// It knows no API types: it reads only authconfig's identities block.
package identity
