package authserver

import (
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Refresh tokens are stateless: an HS256 JWT under a key derived from the
// refresh key file (the same in every replica), carrying a binding to the
// user's password hash. Changing the password or removing the user revokes
// every refresh token issued before; nothing is stored.
type refreshClaims struct {
	jwt.RegisteredClaims
	Use     string `json:"use"` // always "refresh": an access token is never one
	Binding string `json:"bnd"`
}

const refreshUse = "refresh"

var (
	errRefreshInvalid = errors.New("invalid refresh token")
	errRefreshRevoked = errors.New("refresh token revoked: the password changed or the user was removed")
)

func (s *Server) issueRefresh(st *state, a *account, service string, now time.Time) (string, error) {
	c := refreshClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: st.issuer, Subject: a.name, Audience: jwt.ClaimStrings{service},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(s.opts.RefreshTokenTTL)),
			ID: randomID(),
		},
		Use:     refreshUse,
		Binding: base64.RawURLEncoding.EncodeToString(a.binding),
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(st.refreshKey)
}

// redeemRefresh checks raw and returns the account it was issued to.
func (s *Server) redeemRefresh(st *state, raw, service, user string, now time.Time) (*account, error) {
	var c refreshClaims
	_, err := jwt.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return st.refreshKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(st.issuer), jwt.WithAudience(service), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil || c.Use != refreshUse || c.Subject == "" || (user != "" && user != c.Subject) {
		return nil, errRefreshInvalid
	}
	a := st.users[c.Subject]
	if a == nil {
		return nil, errRefreshRevoked
	}
	bnd, err := base64.RawURLEncoding.DecodeString(c.Binding)
	if err != nil || !hmac.Equal(bnd, a.binding) {
		return nil, errRefreshRevoked
	}
	return a, nil
}
