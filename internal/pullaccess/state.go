package pullaccess

import (
	"encoding/json"
	"time"
)

// State is every robot of one registry, by namespace. It lives in the
// registry's robots Secret, so an operator restart resumes rotations where
// they were. It holds bcrypt hashes only; plaintext lives in the tenant's
// pull Secret alone.
type State struct {
	Robots map[string]*Robot `json:"robots"`
}

// Robot is one namespace's account, in up to three generations at once.
type Robot struct {
	// Current is the credential in the pull Secret's .dockerconfigjson.
	Current *Credential `json:"current,omitempty"`
	// Next is its successor: accepted by the auth server already, moved into
	// .dockerconfigjson once the auth server has had time to load it.
	Next *Credential `json:"next,omitempty"`
	// Previous was replaced and stays accepted until its Until.
	Previous *Credential `json:"previous,omitempty"`
	// RotateRequest is the last value of the namespace's rotate annotation
	// acted upon.
	RotateRequest string `json:"rotateRequest,omitempty"`
}

// Credential is one generation of a robot's password: its hash only.
type Credential struct {
	Generation int64     `json:"generation"`
	Hash       string    `json:"hash"`
	Created    time.Time `json:"created"`
	// Live is when the rendered auth config was first seen holding it.
	Live *time.Time `json:"live,omitempty"`
	// Until ends a replaced credential's overlap.
	Until *time.Time `json:"until,omitempty"`
}

// ParseState reads the state document; empty or missing data is no robots.
func ParseState(data []byte) (*State, error) {
	s := &State{}
	if len(data) > 0 {
		if err := json.Unmarshal(data, s); err != nil {
			return nil, err
		}
	}
	if s.Robots == nil {
		s.Robots = map[string]*Robot{}
	}
	return s, nil
}

// Marshal writes the state; map keys come out sorted, so equal states give
// equal bytes and a no-op reconcile writes nothing.
func (s *State) Marshal() ([]byte, error) { return json.Marshal(s) }

// credentials are the generations a robot's users are rendered for.
func (r *Robot) credentials() []*Credential {
	var out []*Credential
	for _, c := range []*Credential{r.Previous, r.Current, r.Next} {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

// maxGeneration is the highest generation the robot ever had in state.
func (r *Robot) maxGeneration() int64 {
	var g int64
	for _, c := range r.credentials() {
		g = max(g, c.Generation)
	}
	return g
}
