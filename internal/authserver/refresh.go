package authserver

import (
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Refresh tokens are stateless: an HS256 JWT under a key derived from the
// refresh key file (the same in every replica), carrying a binding to the
// user's password hash. Changing the password or removing the user revokes
// every refresh token issued before; nothing is stored.
type refreshClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
	ID       string `json:"jti"`
	Use      string `json:"use"` // always "refresh"
	Binding  string `json:"bnd"`
}

const refreshUse = "refresh"

var (
	errRefreshInvalid = errors.New("invalid refresh token")
	errRefreshRevoked = errors.New("refresh token revoked: the password changed or the user was removed")
)

func (s *Server) issueRefresh(st *state, a *account, service string, now time.Time) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: st.refreshKey}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	c := refreshClaims{
		Issuer: st.issuer, Subject: a.name, Audience: service,
		IssuedAt: now.Unix(), Expiry: now.Add(s.opts.RefreshTokenTTL).Unix(),
		ID: randomID(), Use: refreshUse, Binding: base64.RawURLEncoding.EncodeToString(a.binding),
	}
	return jwt.Signed(signer).Claims(c).Serialize()
}

// redeemRefresh checks raw and returns the account it was issued to.
func (s *Server) redeemRefresh(st *state, raw, service, user string, now time.Time) (*account, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		return nil, errRefreshInvalid
	}
	var c refreshClaims
	if err := tok.Claims(st.refreshKey, &c); err != nil {
		return nil, errRefreshInvalid
	}
	if c.Use != refreshUse || c.Issuer != st.issuer || c.Audience != service || now.Unix() >= c.Expiry || c.Subject == "" {
		return nil, errRefreshInvalid
	}
	if user != "" && user != c.Subject {
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
