package authserver

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// upstreamRecorder stands in for the registry's plain-HTTP port and records
// what reached it. The real registry is exercised in test/dataplane.
type upstreamRecorder struct {
	host, proto, forwardedFor chan string
	release                   chan struct{}
}

func newUpstream(t *testing.T) (*upstreamRecorder, *httptest.Server) {
	u := &upstreamRecorder{host: make(chan string, 16), proto: make(chan string, 16), forwardedFor: make(chan string, 16), release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/v2/", func(w http.ResponseWriter, r *http.Request) {
		u.host <- r.Host
		u.proto <- r.Header.Get("X-Forwarded-Proto")
		u.forwardedFor <- r.Header.Get("X-Forwarded-For")
		// Like distribution's autoredirect: the realm comes from Host and X-Forwarded-Proto.
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s://%s/auth/token",service="x"`, r.Header.Get("X-Forwarded-Proto"), r.Host))
		w.WriteHeader(http.StatusUnauthorized)
	})
	// A chunked, resumable upload: hash what arrives, echo the range.
	mux.HandleFunc("PATCH /v2/repo/blobs/uploads/{id}", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Location", "/v2/repo/blobs/uploads/"+r.PathValue("id"))
		w.Header().Set("Range", fmt.Sprintf("0-%d", n-1))
		w.Header().Set("X-Seen-Transfer-Encoding", strings.Join(r.TransferEncoding, ","))
		w.Header().Set("X-Seen-Content-Range", r.Header.Get("Content-Range"))
		w.Header().Set("X-Sha256", hex.EncodeToString(h.Sum(nil)))
		w.WriteHeader(http.StatusAccepted)
	})
	// A download that sends its first part, then waits: the client must see
	// the first part before the rest exists (no buffering in between).
	mux.HandleFunc("GET /v2/repo/blobs/slow", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "8")
		_, _ = w.Write([]byte("first"))
		w.(http.Flusher).Flush()
		select {
		case <-u.release:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write([]byte("end"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return u, srv
}

func TestFrontDoorProxy(t *testing.T) {
	up, upSrv := newUpstream(t)
	ts := newTestServer(t, classic, func(o *Options) { o.Upstream = upSrv.URL })
	base, client, _ := ts.serve(t)

	for _, h2 := range []bool{false, true} {
		c := client
		if !h2 {
			c = &http.Client{Transport: &http.Transport{TLSClientConfig: client.Transport.(*http.Transport).TLSClientConfig.Clone(), TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}}
		}
		resp, err := c.Get(base + "/v2/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		host := strings.TrimPrefix(base, "https://")
		if got := <-up.host; got != host {
			t.Errorf("h2=%v: registry saw Host %q, want the client's %q", h2, got, host)
		}
		if got := <-up.proto; got != "https" {
			t.Errorf("h2=%v: X-Forwarded-Proto %q", h2, got)
		}
		if got := <-up.forwardedFor; got != "127.0.0.1" {
			t.Errorf("h2=%v: X-Forwarded-For %q", h2, got)
		}
		want := `Bearer realm="https://` + host + `/auth/token",service="x"`
		if got := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != 401 || got != want {
			t.Errorf("h2=%v: %d %q, want 401 %q", h2, resp.StatusCode, got, want)
		}
	}

	// The token endpoint is answered by the front door itself.
	req, _ := http.NewRequest(http.MethodGet, base+"/auth/token?service=registry.test&scope=repository:a:pull", nil)
	req.SetBasicAuth("admin", "badmin")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(up.host) != 0 {
		t.Errorf("token endpoint: %d, proxied %d", resp.StatusCode, len(up.host))
	}

	// A chunked upload of unknown length streams through whole.
	const size = 24 << 20
	pr, pw := io.Pipe()
	sum := sha256.New()
	go func() {
		buf := make([]byte, 1<<20)
		for i := 0; i < size/len(buf); i++ {
			for j := range buf {
				buf[j] = byte(i + j)
			}
			sum.Write(buf)
			if _, err := pw.Write(buf); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req, _ = http.NewRequest(http.MethodPatch, base+"/v2/repo/blobs/uploads/abc", pr)
	req.Header.Set("Content-Range", "0-25165823")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 || resp.Header.Get("X-Sha256") != hex.EncodeToString(sum.Sum(nil)) {
		t.Errorf("upload: %d, sha %s", resp.StatusCode, resp.Header.Get("X-Sha256"))
	}
	if resp.Header.Get("Range") != fmt.Sprintf("0-%d", size-1) || resp.Header.Get("Location") != "/v2/repo/blobs/uploads/abc" ||
		resp.Header.Get("X-Seen-Content-Range") != "0-25165823" || resp.Header.Get("X-Seen-Transfer-Encoding") != "chunked" {
		t.Errorf("upload headers: %v", resp.Header)
	}
	// Counted when the handler returns, which may be just after the client
	// has the response.
	eventually(t, "proxy_bytes_total{in} to count the upload", func() bool {
		return testutil.ToFloat64(ts.metrics.proxyBytes.WithLabelValues("in")) == size
	})

	// A download arrives as it is produced.
	resp, err = client.Get(base + "/v2/repo/blobs/slow")
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 5)
	got := make(chan error, 1)
	go func() { _, err := io.ReadFull(resp.Body, first); got <- err }()
	select {
	case err := <-got:
		if err != nil || string(first) != "first" {
			t.Fatalf("first part: %q %v", first, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the first part was held back until the download completed")
	}
	close(up.release)
	rest, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(rest) != "end" {
		t.Errorf("rest %q", rest)
	}
}

func TestFrontDoorUpstreamDown(t *testing.T) {
	_, upSrv := newUpstream(t)
	ts := newTestServer(t, classic, func(o *Options) { o.Upstream = upSrv.URL })
	base, client, _ := ts.serve(t)
	upSrv.Close()
	resp, err := client.Get(base + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "did not answer") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	mresp, err := http.Get("http://" + ts.MonitorAddr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if mresp.StatusCode != 503 || !strings.Contains(string(body), "does not answer") {
		t.Errorf("readyz with the registry down: %d %s", mresp.StatusCode, body)
	}
}

func TestTokenOnlyMode(t *testing.T) {
	ts := newTestServer(t, classic)
	base, client, _ := ts.serve(t)
	resp, err := client.Get(base + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("/v2/ in token-only mode: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/auth?service=registry.test", nil)
	req.SetBasicAuth("test", "123")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/auth: %d", resp.StatusCode)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		r, err := http.Get("http://" + ts.MonitorAddr() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 200 {
			t.Errorf("%s: %d %s", path, r.StatusCode, body)
		}
		if path == "/metrics" && !strings.Contains(string(body), `registry_auth_tokens_issued_total{grant="basic"} 1`) {
			t.Errorf("/metrics lacks the issued token:\n%s", body)
		}
	}
}

func TestTLSPolicy(t *testing.T) {
	ts := newTestServer(t, classic)
	base, client, _ := ts.serve(t)
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: client.Transport.(*http.Transport).TLSClientConfig.RootCAs, MaxVersion: tls.VersionTLS11,
	}}}
	if _, err := old.Get(base + "/auth"); err == nil {
		t.Error("a TLS 1.1 client was accepted")
	}
	plain := strings.Replace(base, "https://", "http://", 1)
	if resp, err := http.Get(plain + "/auth"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP got %d", resp.StatusCode)
		}
	}
}

// TestProxyIdleTimeout: an upload may take longer than the idle timeout as
// long as bytes keep coming; one that stalls for longer is cut. The same
// connection then still serves requests (no deadline left behind).
func TestProxyIdleTimeout(t *testing.T) {
	_, upSrv := newUpstream(t)
	ts := newTestServer(t, classic, func(o *Options) { o.Upstream = upSrv.URL; o.IdleTimeout = 2 * time.Second })
	base, _, _ := ts.serve(t)
	// One HTTP/1.1 connection for everything.
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: ts.client().Transport.(*http.Transport).TLSClientConfig, MaxConnsPerHost: 1,
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}}
	upload := func(pause time.Duration, parts int) (int, error) {
		pr, pw := io.Pipe()
		go func() {
			for range parts {
				if _, err := pw.Write([]byte("0123456789")); err != nil {
					return
				}
				time.Sleep(pause)
			}
			pw.Close()
		}()
		req, _ := http.NewRequest(http.MethodPatch, base+"/v2/repo/blobs/uploads/x", pr)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	// 3 s in total, bytes every 300 ms: longer than the idle timeout, never idle.
	if code, err := upload(300*time.Millisecond, 10); err != nil || code != http.StatusAccepted {
		t.Fatalf("slow but steady upload: %d %v", code, err)
	}
	// Later requests on the same connection are not hit by a stale deadline.
	time.Sleep(2200 * time.Millisecond)
	req, _ := http.NewRequest(http.MethodGet, base+"/auth?service=registry.test", nil)
	req.SetBasicAuth("test", "123")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("request after the upload: %v", err)
	}
	resp.Body.Close()
	// A stall of 5 s is cut.
	if code, err := upload(5*time.Second, 2); err == nil && code == http.StatusAccepted {
		t.Error("an upload that stalled past the idle timeout completed")
	}
}
