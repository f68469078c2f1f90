package authserver

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// tokenResponse carries both spellings: the docker token spec's "token" and
// OAuth2's "access_token".
type tokenResponse struct {
	Token        string `json:"token"`
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	IssuedAt     string `json:"issued_at"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// errorBody serves both client families: registry clients read "errors",
// OAuth2 clients read "error" and "error_description".
type errorBody struct {
	Errors           []errorEntry `json:"errors"`
	Error            string       `json:"error"`
	ErrorDescription string       `json:"error_description"`
}

type errorEntry struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body))) // lets HTTP/1.0 clients keep the connection
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError answers with status and a message meant for the client's user.
func writeError(w http.ResponseWriter, status int, oauthCode, msg string) {
	code := map[int]string{
		http.StatusBadRequest:            "INVALID_REQUEST",
		http.StatusUnauthorized:          "UNAUTHORIZED",
		http.StatusTooManyRequests:       "TOOMANYREQUESTS",
		http.StatusRequestEntityTooLarge: "SIZE_INVALID",
		http.StatusMethodNotAllowed:      "UNSUPPORTED",
		http.StatusMisdirectedRequest:    "DENIED",
		http.StatusRequestTimeout:        "UNKNOWN",
	}[status]
	if code == "" {
		code = "UNKNOWN"
	}
	writeJSON(w, status, errorBody{Errors: []errorEntry{{Code: code, Message: msg}}, Error: oauthCode, ErrorDescription: msg})
}

func writeUnauthorized(w http.ResponseWriter, realm, msg string) {
	w.Header().Set("WWW-Authenticate", `Basic realm=`+strconv.Quote(realm))
	writeError(w, http.StatusUnauthorized, "invalid_grant", msg)
}

func writeRateLimited(w http.ResponseWriter, wait time.Duration) {
	secs := int64(wait/time.Second) + 1
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	writeError(w, http.StatusTooManyRequests, "slow_down", "too many failed attempts; retry after "+strconv.FormatInt(secs, 10)+"s")
}
