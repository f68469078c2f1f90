package authserver

import (
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strings"
)

// tokenRequest is a GET (docker token spec) or POST (OAuth2) token request,
// normalised.
type tokenRequest struct {
	grant        string // basic, anonymous, password, refresh_token
	user         string
	password     string // never logged
	refreshToken string // never logged
	service      string
	scopes       []Scope
	offline      bool // the client wants a refresh token
	clientID     string
}

const maxFormBytes = 64 << 10

// Errors that get their own status or OAuth2 error code.
var (
	errTooLarge         = errors.New("request body too large")
	errBodyTimeout      = errors.New("the request body did not arrive in time")
	errMethod           = errors.New("method not allowed: use GET or POST")
	errUnsupportedGrant = errors.New("unsupported grant_type")
)

// parseTokenRequest reads r. Every error is the client's and says what is wrong.
func parseTokenRequest(w http.ResponseWriter, r *http.Request) (*tokenRequest, error) {
	switch r.Method {
	case http.MethodGet:
		return parseGet(r)
	case http.MethodPost:
		return parsePost(w, r)
	}
	return nil, errMethod
}

func parseGet(r *http.Request) (*tokenRequest, error) {
	q := r.URL.Query()
	tr := &tokenRequest{service: q.Get("service"), clientID: q.Get("client_id"), offline: isTrue(q.Get("offline_token"))}
	if h := r.Header.Get("Authorization"); h != "" {
		user, pass, ok := r.BasicAuth()
		if !ok {
			return nil, errors.New("the Authorization header must use the Basic scheme with base64 user:password")
		}
		tr.grant, tr.user, tr.password = "basic", user, pass
	} else {
		tr.grant = "anonymous"
	}
	if acct := q.Get("account"); acct != "" {
		if tr.grant == "anonymous" {
			// Acting as an account needs that account's credentials.
			tr.grant, tr.user = "basic", acct
		} else if acct != tr.user {
			return nil, fmt.Errorf("account %q differs from the user in the credentials", truncate(acct, 64))
		}
	}
	return tr, finish(tr, q["scope"])
}

func parsePost(w http.ResponseWriter, r *http.Request) (*tokenRequest, error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return nil, errors.New("POST needs a form body (Content-Type: application/x-www-form-urlencoded)")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errTooLarge
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, errBodyTimeout
		}
		return nil, errors.New("malformed form body")
	}
	f := r.PostForm
	tr := &tokenRequest{
		grant:    f.Get("grant_type"),
		service:  f.Get("service"),
		clientID: f.Get("client_id"),
		offline:  f.Get("access_type") == "offline",
	}
	switch tr.grant {
	case "password":
		tr.user, tr.password = f.Get("username"), f.Get("password")
		if tr.user == "" {
			return nil, errors.New("grant_type=password needs username")
		}
	case "refresh_token":
		tr.refreshToken, tr.user = f.Get("refresh_token"), f.Get("username")
		if tr.refreshToken == "" {
			return nil, errors.New("grant_type=refresh_token needs refresh_token")
		}
	case "":
		return nil, errors.New("grant_type is required (password or refresh_token)")
	default:
		return nil, fmt.Errorf("%w %q (want password or refresh_token)", errUnsupportedGrant, truncate(tr.grant, 32))
	}
	return tr, finish(tr, f["scope"])
}

func finish(tr *tokenRequest, scopes []string) error {
	if tr.service == "" {
		return errors.New("service is required (the registry's service name, from its WWW-Authenticate challenge)")
	}
	if len(tr.service) > 253 || strings.ContainsAny(tr.service, "\x00\r\n") {
		return errors.New("service is not a valid name")
	}
	var err error
	tr.scopes, err = ParseScopes(scopes)
	return err
}

func isTrue(s string) bool {
	return s == "true" || s == "1"
}
