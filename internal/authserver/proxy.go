package authserver

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// newProxy forwards everything but the token endpoint to the registry. Bodies
// stream both ways through fixed buffers (a blob is never held in memory).
// The outgoing request keeps the client's Host and says X-Forwarded-Proto:
// https, so a registry with auth.token.autoredirect names in its challenge
// the very host and port the client used, and relative Location headers
// resolve against them too.
func (s *Server) newProxy(upstream *url.URL) http.Handler {
	transport := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true, // pass bytes through as the registry sent them
		WriteBufferSize:       64 << 10,
		ReadBufferSize:        64 << 10,
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.Out.Host = pr.In.Host // SetURL replaced it with the upstream's
			pr.SetXForwarded()       // X-Forwarded-For/Host, and Proto https (the front door is TLS)
		},
		Transport:  transport,
		BufferPool: bufferPool{},
		// Flush after every write: a client sees each part of a response as
		// soon as the registry sends it (the copy buffer bounds the write size).
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if cw, ok := w.(*countingWriter); ok && cw.in != nil {
				if berr := cw.in.failure(); berr != nil {
					s.clientBodyFailed(w, r, berr)
					return
				}
			}
			if r.Context().Err() != nil {
				return // the client went away; nothing to answer
			}
			s.log.Warn("registry unreachable", "method", r.Method, "path", r.URL.Path, "error", err)
			writeError(w, http.StatusBadGateway, "temporarily_unavailable", "the registry behind this front door did not answer")
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rc := http.NewResponseController(w)
		t := &idleTimer{rc: rc, idle: s.opts.IdleTimeout}
		t.extend() // replaces the request deadlines bounded set
		if t.idle <= 0 {
			_ = rc.SetReadDeadline(time.Time{}) // no idle limit: no deadline at all
			_ = rc.SetWriteDeadline(time.Time{})
		}
		sw := &countingWriter{statusWriter: statusWriter{ResponseWriter: w, code: http.StatusOK}, t: t}
		var in *countingBody
		if r.Body != nil && r.Body != http.NoBody {
			in = &countingBody{ReadCloser: r.Body, t: t}
			r.Body = in
			sw.in = in
		}
		rp.ServeHTTP(sw, r) // net/http clears the deadlines once the response is done
		s.metrics.proxySeconds.WithLabelValues(methodLabel(r.Method), codeLabel(sw.code)).Observe(time.Since(start).Seconds())
		s.metrics.proxyBytes.WithLabelValues("out").Add(float64(sw.n))
		if in != nil {
			s.metrics.proxyBytes.WithLabelValues("in").Add(float64(in.n))
		}
	})
}

// idleTimer moves the connection's read and write deadlines forward as bytes
// flow: an upload or download may take as long as it needs, but one that
// stalls for the idle timeout is cut. Deadlines move at most once a second.
type idleTimer struct {
	rc   *http.ResponseController
	idle time.Duration
	last time.Time
}

func (t *idleTimer) extend() {
	if t.idle <= 0 {
		return
	}
	now := time.Now()
	if now.Sub(t.last) < time.Second {
		return
	}
	t.last = now
	_ = t.rc.SetReadDeadline(now.Add(t.idle)) // not every ResponseWriter supports deadlines
	_ = t.rc.SetWriteDeadline(now.Add(t.idle))
}

// countingBody counts the client's body bytes and remembers why reading it
// failed, if it did: the transport reads it on its own goroutine and reports
// any failure as a failed round trip, and only this record tells the
// client's fault (a stalled upload, a malformed chunk) from the registry's.
type countingBody struct {
	io.ReadCloser
	t *idleTimer
	n int64

	mu  sync.Mutex
	err error
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	b.t.extend()
	if err != nil && err != io.EOF {
		b.mu.Lock()
		if b.err == nil {
			b.err = err
			// The read deadline that just fired is also the write
			// deadline: move the latter, so the error answer is written
			// whole instead of cutting the TLS stream mid-record.
			_ = b.t.rc.SetWriteDeadline(time.Now().Add(errorWriteTimeout))
		}
		b.mu.Unlock()
	}
	return n, err
}

func (b *countingBody) failure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// errorWriteTimeout is how long the answer to a failed request body may take.
const errorWriteTimeout = 10 * time.Second

// clientBodyFailed answers a proxied request whose body the client failed to
// send: 408 when it stalled past the idle timeout, 400 when it was malformed
// (a bad chunk, say). The registry is fine: nothing is logged as its fault.
// The connection is closed: the rest of the body cannot be trusted to frame
// a next request.
func (s *Server) clientBodyFailed(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Connection", "close")
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		s.log.Info("client stalled sending a request body; cut", "method", methodLabel(r.Method), "path", r.URL.Path, "idle_timeout", s.opts.IdleTimeout)
		writeError(w, http.StatusRequestTimeout, "invalid_request", "the request body stalled for longer than the idle timeout")
		return
	}
	s.log.Info("client sent a malformed request body", "method", methodLabel(r.Method), "path", r.URL.Path, "error", err)
	writeError(w, http.StatusBadRequest, "invalid_request", "malformed request body: "+err.Error())
}

type countingWriter struct {
	statusWriter
	t  *idleTimer
	n  int64
	in *countingBody // the request body, nil when there is none
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.statusWriter.Write(p)
	w.n += int64(n)
	w.t.extend()
	return n, err
}

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// bufferPool recycles the proxy's copy buffers.
type bufferPool struct{}

var proxyBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

func (bufferPool) Get() []byte  { return *proxyBuffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { proxyBuffers.Put(&b) }
