package pullaccess

import (
	"encoding/base64"
	"encoding/json"
)

type dockerAuth struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Auth     string `json:"auth"`
}

type dockerConfig struct {
	Auths map[string]dockerAuth `json:"auths"`
}

// DockerConfig is a .dockerconfigjson with one entry per host (host:port as
// the kubelet and clients compare it with an image reference), all for the
// same account. Output is deterministic.
func DockerConfig(hosts []string, user, password string) []byte {
	c := dockerConfig{Auths: map[string]dockerAuth{}}
	a := dockerAuth{Username: user, Password: password, Auth: base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
	for _, h := range hosts {
		if h != "" {
			c.Auths[h] = a
		}
	}
	out, _ := json.Marshal(c) // plain strings and maps cannot fail
	return out
}

// PasswordIn returns the password data holds for user, or "" when the
// document is not one DockerConfig could have written for user (edited,
// truncated, entries that disagree). Hosts are not compared: when the
// registry's address changes, the same password is written under the new
// ones, so no new credential (and no bcrypt) is needed.
func PasswordIn(data []byte, user string) string {
	var c dockerConfig
	if json.Unmarshal(data, &c) != nil || len(c.Auths) == 0 {
		return ""
	}
	pw := ""
	for _, a := range c.Auths {
		if a.Username != user || a.Password == "" || (pw != "" && a.Password != pw) {
			return ""
		}
		if a.Auth != base64.StdEncoding.EncodeToString([]byte(user+":"+a.Password)) {
			return ""
		}
		pw = a.Password
	}
	return pw
}
