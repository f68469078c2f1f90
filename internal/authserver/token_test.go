package authserver

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/registry-auth-operator/registry-auth-operator/internal/authserver/authtest"
)

func TestTokenClassicExample(t *testing.T) {
	ts := newTestServer(t, classic)
	cases := []struct {
		user, pass string
		scopes     []string
		want       []string
	}{
		{"admin", "badmin", []string{"repository:any/thing:pull,push"}, []string{"repository:any/thing:pull,push"}},
		{"admin", "badmin", []string{"registry:catalog:*"}, []string{"registry:catalog:*"}},
		{"test", "123", []string{"repository:any/thing:pull,push"}, []string{"repository:any/thing:pull"}},
		{"test", "123", []string{"repository:any/thing:push"}, nil},
		{"test", "123", []string{"registry:catalog:*"}, nil},
		{"alice", "wonderland", []string{"repository:alice/app:push,pull", "repository:bob/app:pull"}, []string{"repository:alice/app:push,pull"}},
		{"alice", "wonderland", []string{"repository:teams/red/app:push repository:teams/blue/app:push"}, []string{"repository:teams/red/app:push"}},
		{"admin", "badmin", []string{"repository:localhost:5000/x/y:pull"}, []string{"repository:localhost:5000/x/y:pull"}},
		{"admin", "badmin", nil, nil}, // docker login: authentication only
	}
	for _, c := range cases {
		tr := decodeToken(t, ts.get(scopeQuery(c.scopes...), c.user, c.pass))
		if tr.Token == "" || tr.Token != tr.AccessToken || tr.ExpiresIn != 300 || tr.RefreshToken != "" {
			t.Errorf("%s %v: response %+v", c.user, c.scopes, tr)
		}
		if _, err := time.Parse(time.RFC3339, tr.IssuedAt); err != nil {
			t.Errorf("issued_at %q: %v", tr.IssuedAt, err)
		}
		claims := ts.verify(t, tr.Token)
		if got := access(claims); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %v: access %q, want %q", c.user, c.scopes, got, c.want)
		}
		if claims.Subject != c.user || claims.Issuer != "test-issuer" || claims.JWTID == "" ||
			claims.Expiration-claims.IssuedAt != 300 || claims.NotBefore > claims.IssuedAt {
			t.Errorf("claims %+v", claims)
		}
	}
}

func TestTokenWireFormat(t *testing.T) {
	ts := newTestServer(t, classic)
	tr := decodeToken(t, ts.get(scopeQuery("repository:a/b:pull"), "admin", "badmin"))
	parts := strings.Split(tr.Token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", tr.Token)
	}
	var header struct {
		Alg, Kid, Typ string
		X5c           []string
	}
	var claims map[string]any
	for i, v := range []any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
	}
	wantKid, _ := keyID(ts.env.Signing.Cert.PublicKey)
	if header.Alg != "ES256" || header.Typ != "JWT" || header.Kid != wantKid || len(header.X5c) != 2 {
		t.Errorf("header %+v (want ES256, JWT, kid %s, x5c of leaf and CA)", header, wantKid)
	}
	if leaf, _ := base64.StdEncoding.DecodeString(header.X5c[0]); string(leaf) != string(ts.env.Signing.Cert.Raw) {
		t.Error("x5c[0] is not the signing certificate")
	}
	if ca, _ := base64.StdEncoding.DecodeString(header.X5c[1]); string(ca) != string(ts.env.TokenCA.Cert.Raw) {
		t.Error("x5c[1] is not the token CA")
	}
	// Registry 2.8 declares aud a string: an array would not parse there.
	if aud, ok := claims["aud"].(string); !ok || aud != testService {
		t.Errorf("aud = %#v, want the string %q", claims["aud"], testService)
	}
}

func TestTokenRS256(t *testing.T) {
	o := classic
	o.SigningKind = authtest.RSA2048
	ts := newTestServer(t, o)
	tr := decodeToken(t, ts.get(scopeQuery("repository:a/b:pull"), "admin", "badmin"))
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(tr.Token, ".")[0])
	if !strings.Contains(string(header), `"alg":"RS256"`) {
		t.Errorf("header %s", header)
	}
	ts.verify(t, tr.Token)
}

func TestTokenRejections(t *testing.T) {
	ts := newTestServer(t, classic)
	check := func(name string, w *httptest.ResponseRecorder, code int, want string) {
		t.Helper()
		if w.Code != code || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: %d %s; want %d with %q", name, w.Code, w.Body, code, want)
		}
		var body errorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 || body.Error == "" {
			t.Errorf("%s: error body %q is not the JSON error format", name, w.Body)
		}
	}
	w := ts.get(scopeQuery("repository:a:pull"), "admin", "wrong")
	check("wrong password", w, 401, "invalid username or password")
	if got := w.Header().Get("WWW-Authenticate"); got != `Basic realm="test-issuer"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	check("unknown user", ts.get(scopeQuery(), "nobody", "x"), 401, "invalid username or password")
	check("anonymous not enabled", ts.get(scopeQuery("repository:a:pull"), "", ""), 401, "anonymous access is not enabled")
	check("account without credentials", ts.get(url.Values{"service": {testService}, "account": {"admin"}}, "", ""), 401, "invalid username or password")
	check("account differs", ts.get(url.Values{"service": {testService}, "account": {"test"}}, "admin", "badmin"), 400, "differs from the user")
	check("bad scope", ts.get(scopeQuery("repository:a"), "admin", "badmin"), 400, "type:name:actions")
	check("no service", ts.get(url.Values{}, "admin", "badmin"), 400, "service is required")

	r := httptest.NewRequest(http.MethodGet, "https://localhost/auth?service=x", nil)
	r.Header.Set("Authorization", "Bearer abc")
	w = httptest.NewRecorder()
	ts.Handler().ServeHTTP(w, r)
	check("bearer on GET", w, 400, "Basic scheme")

	w = httptest.NewRecorder()
	ts.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodPut, "https://localhost/auth", nil))
	check("PUT", w, 405, "use GET or POST")

	r = httptest.NewRequest(http.MethodPost, "https://localhost/auth", strings.NewReader(`{"grant_type":"password"}`))
	r.Header.Set("Content-Type", "application/json")
	w = httptest.NewRecorder()
	ts.Handler().ServeHTTP(w, r)
	check("JSON POST", w, 400, "form body")

	check("no grant", ts.post(url.Values{"service": {testService}}), 400, "grant_type is required")
	check("client_credentials", ts.post(url.Values{"service": {testService}, "grant_type": {"client_credentials"}}), 400, "unsupported grant_type")
	check("password without username", ts.post(url.Values{"service": {testService}, "grant_type": {"password"}}), 400, "needs username")
	check("POST wrong password", ts.post(url.Values{"service": {testService}, "grant_type": {"password"}, "username": {"admin"}, "password": {"x"}}), 401, "invalid username or password")
	check("garbage refresh token", ts.post(url.Values{"service": {testService}, "grant_type": {"refresh_token"}, "refresh_token": {"abc"}}), 401, "invalid refresh token")
	big := url.Values{"service": {testService}, "grant_type": {"password"}, "username": {"admin"}, "password": {strings.Repeat("x", maxFormBytes)}}
	check("huge form", ts.post(big), 413, "too large")

	if got := metricValue(t, ts, "denied", "malformed_request"); got != 10 {
		t.Errorf("denied{malformed_request} = %v, want 10", got)
	}
	if got := metricValue(t, ts, "denied", "bad_credentials"); got != 5 {
		t.Errorf("denied{bad_credentials} = %v, want 5", got)
	}
	if strings.Contains(ts.logs.String(), "badmin") || strings.Contains(ts.logs.String(), "wrong") {
		t.Error("a password reached the log")
	}
}

func TestPostPasswordAndRefreshFlow(t *testing.T) {
	ts := newTestServer(t, classic)
	// containerd's first request: OAuth2 password grant, with offline access.
	tr := decodeToken(t, ts.post(url.Values{
		"grant_type": {"password"}, "username": {"alice"}, "password": {"wonderland"},
		"service": {testService}, "scope": {"repository:alice/app:pull,push repository:bob/x:pull"},
		"client_id": {"containerd-client"}, "access_type": {"offline"},
	}))
	if tr.RefreshToken == "" || tr.Scope != "repository:alice/app:pull,push" {
		t.Fatalf("response %+v", tr)
	}
	if got := access(ts.verify(t, tr.Token)); !reflect.DeepEqual(got, []string{"repository:alice/app:pull,push"}) {
		t.Errorf("access %q", got)
	}
	refresh := func(rt, user string) *httptest.ResponseRecorder {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "service": {testService}, "scope": {"repository:alice/app:pull"}}
		if user != "" {
			f.Set("username", user)
		}
		return ts.post(f)
	}
	tr2 := decodeToken(t, refresh(tr.RefreshToken, ""))
	if c := ts.verify(t, tr2.Token); c.Subject != "alice" || !reflect.DeepEqual(access(c), []string{"repository:alice/app:pull"}) {
		t.Errorf("refreshed token: %+v", c)
	}
	if w := refresh(tr.RefreshToken, "admin"); w.Code != 401 {
		t.Errorf("refresh token accepted for another user: %d", w.Code)
	}
	other := ts.post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "service": {"other"}})
	if other.Code != 401 {
		t.Errorf("refresh token accepted for another service: %d", other.Code)
	}
	// docker login asks for a refresh token with GET offline_token=true.
	q := scopeQuery()
	q.Set("offline_token", "true")
	q.Set("client_id", "docker")
	dl := decodeToken(t, ts.get(q, "alice", "wonderland"))
	if dl.RefreshToken == "" {
		t.Fatal("no refresh token for offline_token=true")
	}
	// Changing the password revokes both refresh tokens.
	if err := ts.env.SetPassword("alice", "looking-glass", 5); err != nil {
		t.Fatal(err)
	}
	if err := ts.Reload(); err != nil {
		t.Fatal(err)
	}
	for _, rt := range []string{tr.RefreshToken, dl.RefreshToken} {
		w := refresh(rt, "")
		if w.Code != 401 || !strings.Contains(w.Body.String(), "revoked") {
			t.Errorf("after password change: %d %s", w.Code, w.Body)
		}
	}
	if got := metricValue(t, ts, "denied", "refresh_revoked"); got != 2 {
		t.Errorf("denied{refresh_revoked} = %v", got)
	}
	// A new login gets a working refresh token; removing the user revokes it.
	fresh := decodeToken(t, ts.get(q, "alice", "looking-glass")).RefreshToken
	decodeToken(t, refresh(fresh, "alice"))
	delete(ts.env.Config.Users, "alice")
	if err := ts.env.WriteConfig(); err != nil {
		t.Fatal(err)
	}
	if err := ts.Reload(); err != nil {
		t.Fatal(err)
	}
	if w := refresh(fresh, ""); w.Code != 401 || !strings.Contains(w.Body.String(), "revoked") {
		t.Errorf("after removing the user: %d %s", w.Code, w.Body)
	}
	// Refresh tokens are not access tokens and vice versa.
	if w := refresh(tr2.Token, ""); w.Code != 401 {
		t.Errorf("an access token was accepted as a refresh token: %d", w.Code)
	}
	if strings.Contains(ts.logs.String(), tr.RefreshToken) || strings.Contains(ts.logs.String(), "wonderland") {
		t.Error("a secret reached the log")
	}
}

func TestAnonymousOnlyWhenConfigured(t *testing.T) {
	o := classic
	o.Users = map[string]authtest.User{"": {}, "admin": {Password: "badmin"}}
	o.ACL = `
- match: {account: "admin"}
  actions: ["*"]
- match: {account: "", name: "public/*"}
  actions: [pull]
`
	ts := newTestServer(t, o)
	tr := decodeToken(t, ts.get(scopeQuery("repository:public/a:pull,push", "repository:private/a:pull"), "", ""))
	c := ts.verify(t, tr.Token)
	if c.Subject != "" || !reflect.DeepEqual(access(c), []string{"repository:public/a:pull"}) {
		t.Errorf("anonymous claims %+v", c)
	}
	q := scopeQuery()
	q.Set("offline_token", "true")
	if decodeToken(t, ts.get(q, "", "")).RefreshToken != "" {
		t.Error("anonymous got a refresh token")
	}
	if w := ts.get(scopeQuery(), "", "guess"); w.Code != 401 {
		t.Errorf("anonymous with a password: %d", w.Code)
	}
	if got := metricValue(t, ts, "issued", "anonymous"); got != 2 {
		t.Errorf("issued{anonymous} = %v", got)
	}
}
