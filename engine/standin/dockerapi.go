package standin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
)

// Docker talks to the local Docker Engine API over its unix socket (DOCKER_HOST=unix://... or
// /var/run/docker.sock). The API rather than the `docker` CLI, because the CLI can neither take
// container env values off the command line (secrets; --env-file would put them on disk) nor
// express an exec-form healthcheck (["CMD", ...]); the upstream provider uses this same API
// through the Docker Go client.
type Docker struct {
	Socket string
	http   *http.Client
}

// ErrNotFound is a 404 from the engine: the object does not exist.
var ErrNotFound = errors.New("not found")

// NewDocker builds a client; no connection is made until a call.
func NewDocker() (*Docker, error) {
	sock := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		if !strings.HasPrefix(h, "unix://") {
			return nil, fmt.Errorf("DOCKER_HOST=%q: the togather-standin docker plugin only speaks to a "+
				"local unix socket; unset DOCKER_HOST or set it to unix:///path/to/docker.sock", h)
		}
		sock = strings.TrimPrefix(h, "unix://")
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}
	return &Docker{Socket: sock, http: &http.Client{Transport: tr}}, nil
}

// Call sends one request; a 2xx answer is decoded into out (if non-nil). Errors carry the
// engine's own message and what was attempted, never the request body (it may hold secrets).
func (d *Docker) Call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	u := "http://docker/v1.41" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return fmt.Errorf("docker engine at %s: %w (start it: scripts/docker-engine ensure)", d.Socket, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s %s: %w: %s", method, path, ErrNotFound, engineMessage(data))
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: docker engine answered %d: %s", method, path, resp.StatusCode, engineMessage(data))
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

func engineMessage(data []byte) string {
	var m struct{ Message string }
	if json.Unmarshal(data, &m) == nil && m.Message != "" {
		return m.Message
	}
	return strings.TrimSpace(string(data))
}

// CLI runs the docker CLI for what the API makes long-winded (image builds need a tar stream).
// argv is data, never a shell string; no secret is ever passed here.
func CLI(ctx context.Context, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tail := stderr.String()
		if len(tail) > 4000 {
			tail = tail[len(tail)-4000:]
		}
		return "", fmt.Errorf("docker %s: %w: %s", argv[0], err, strings.TrimSpace(tail))
	}
	return stdout.String(), nil
}
