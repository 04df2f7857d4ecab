package standin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Container is docker:index/container:Container.
type Container struct{ Docker func() (*Docker, error) }

// containerUpdatable: the attributes the upstream schema (kreuzwerker resource_docker_container.go)
// declares WITHOUT ForceNew. Everything else replaces the container. Deliberate difference: newer
// upstream made `healthcheck` updatable, but the engine cannot change a container's healthcheck in
// place (upstream then records a healthcheck the container does not have); here it replaces.
var containerUpdatable = map[string]bool{
	"rm": true, "start": true, "wait": true, "waitTimeout": true, "attach": true, "logs": true,
	"mustRun": true, "restart": true, "maxRetryCount": true, "removeVolumes": true, "tmpfs": true,
	"destroyGraceSeconds": true, "memory": true, "memorySwap": true, "cpuShares": true,
	"cpuSet": true, "containerReadRefreshTimeoutMilliseconds": true, "init": true,
}

var containerOutputs = []string{"bridge", "containerLogs", "exitCode", "networkDatas"}

var containerSupported = setOf("name", "image", "envs", "command", "entrypoints", "user", "workingDir",
	"hostname", "domainname", "stopSignal", "stopTimeout", "tty", "stdinOpen", "healthcheck", "ports",
	"publishAllPorts", "mounts", "volumes", "tmpfs", "restart", "maxRetryCount", "memory", "memorySwap",
	"shmSize", "cpuShares", "cpuSet", "readOnly", "privileged", "init", "securityOpts", "sysctls", "dns",
	"dnsOpts", "dnsSearches", "groupAdds", "capabilities", "hosts", "logDriver", "logOpts", "labels",
	"networksAdvanced", "networkMode", "rm", "start", "wait", "waitTimeout", "attach", "logs", "mustRun",
	"removeVolumes", "destroyGraceSeconds", "containerReadRefreshTimeoutMilliseconds")

func setOf(keys ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// Check applies the upstream schema defaults the program relies on (restart "no", start and
// mustRun true, waitTimeout 60, port ip 0.0.0.0 / protocol tcp) and refuses what is not built.
func (c Container) Check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	out := Defaults(news, map[string]any{"restart": "no", "start": true, "mustRun": true, "rm": false,
		"readOnly": false, "wait": false, "waitTimeout": 60.0, "attach": false, "logs": false,
		"removeVolumes": true, "tty": false, "stdinOpen": false, "networkMode": "bridge",
		"containerReadRefreshTimeoutMilliseconds": 15000.0})
	if p, ok := out["ports"]; ok && p.IsArray() {
		var arr []resource.PropertyValue
		for _, e := range p.ArrayValue() {
			if e.IsObject() {
				e = resource.NewObjectProperty(Defaults(e.ObjectValue(), map[string]any{"ip": "0.0.0.0", "protocol": "tcp"}))
			}
			arr = append(arr, e)
		}
		out["ports"] = resource.NewArrayProperty(arr)
	}
	failures := Unsupported(out, containerSupported)
	if r := out["restart"]; r.IsString() && !setOf("no", "on-failure", "always", "unless-stopped")[r.StringValue()] {
		failures = append(failures, &pulumirpc.CheckFailure{Property: "restart",
			Reason: fmt.Sprintf("restart = %q must be one of no, on-failure, always, unless-stopped", r.StringValue())})
	}
	return out, failures
}

func (c Container) Diff(olds, news resource.PropertyMap) *pulumirpc.DiffResponse {
	return DiffInputs(olds, news, func(k string) bool { return !containerUpdatable[k] }, containerOutputs...)
}

func (c Container) Create(ctx context.Context, _ string, news resource.PropertyMap, preview bool) (string, resource.PropertyMap, error) {
	if preview {
		return "", WithOutputs(news, map[string]resource.PropertyValue{"bridge": Unknown(),
			"networkDatas": Unknown(), "exitCode": Unknown(), "containerLogs": Unknown()}), nil
	}
	in := PlainMap(news)
	spec, err := BuildContainerCreate(in)
	if err != nil {
		return "", nil, err
	}
	d, err := c.Docker()
	if err != nil {
		return "", nil, err
	}
	name := Str(in, "name")
	var created struct {
		ID string `json:"Id"`
	}
	err = d.Call(ctx, "POST", "/containers/create", url.Values{"name": {name}}, spec.Body, &created)
	if err != nil {
		if strings.Contains(err.Error(), "is already in use") {
			return "", nil, fmt.Errorf("container name %q is taken by a container this stack does not track: "+
				"remove it (docker rm -f %s) or import it, then retry: %w", name, name, err)
		}
		return "", nil, fmt.Errorf("creating container %q: %w", name, err)
	}
	// From here on the container exists: any failure removes it, so a retry starts clean
	// (the engine records nothing for a failed create).
	fail := func(err error) (string, resource.PropertyMap, error) {
		_ = d.Call(context.Background(), "DELETE", "/containers/"+created.ID, url.Values{"force": {"1"}}, nil, nil)
		return "", nil, fmt.Errorf("container %q: %w (the half-made container was removed)", name, err)
	}
	for _, n := range spec.Extra {
		body := map[string]any{"Container": created.ID, "EndpointConfig": endpoint(n)}
		if err := d.Call(ctx, "POST", "/networks/"+url.PathEscape(Str(n, "name"))+"/connect", nil, body, nil); err != nil {
			return fail(err)
		}
	}
	// upstream: `start` (default true) starts it after create; must_run only matters on read.
	if Bool(in, "start", true) {
		if err := d.Call(ctx, "POST", "/containers/"+created.ID+"/start", nil, nil, nil); err != nil {
			return fail(err)
		}
	}
	if Bool(in, "wait", false) {
		if err := waitHealthy(ctx, d, created.ID, time.Duration(Int(in, "waitTimeout"))*time.Second); err != nil {
			return fail(err)
		}
	}
	id, outs, err := c.inspect(ctx, d, created.ID, news)
	if err != nil {
		return fail(err)
	}
	return id, outs, nil
}

// waitHealthy mirrors upstream `wait`: poll until the healthcheck says healthy; no healthcheck
// is an error.
func waitHealthy(ctx context.Context, d *Docker, id string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var info inspected
		if err := d.Call(ctx, "GET", "/containers/"+id+"/json", nil, nil, &info); err != nil {
			return err
		}
		if info.State.Health == nil {
			return errors.New("wait=true needs a healthcheck (in the image or the resource)")
		}
		if info.State.Health.Status == "healthy" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not healthy after %s (status %q)", limit, info.State.Health.Status)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
