package standin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// These run against the real Docker engine (scripts/docker-engine ensure) and skip without one.
func realDocker(t *testing.T) (*Docker, string) {
	t.Helper()
	d, err := NewDocker()
	if err != nil {
		t.Skip(err)
	}
	var imgs []struct{ RepoTags []string }
	if err := d.Call(context.Background(), "GET", "/images/json", nil, nil, &imgs); err != nil {
		t.Skipf("no Docker engine: %v", err)
	}
	for _, i := range imgs {
		for _, tag := range i.RepoTags {
			if strings.HasPrefix(tag, "togather-base/minbase:") {
				return d, tag
			}
		}
	}
	t.Skip("no togather-base/minbase image: run scripts/build-base-images")
	return nil, ""
}

func TestDockerLifecycleAgainstRealEngine(t *testing.T) {
	d, image := realDocker(t)
	ctx := context.Background()
	get := func() (*Docker, error) { return d, nil }
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	pfx := "standin-test-" + hex.EncodeToString(b)

	// a fixed address needs a user subnet: random in 10.200-254.x.0/24 (others' tests run too)
	subnet := fmt.Sprintf("10.%d.%d.0/24", 200+int(b[0])%55, b[1])
	fixed := strings.TrimSuffix(subnet, "0/24") + "10"
	netIn, _ := Network{get}.Check(props(map[string]any{"name": pfx + "-net",
		"ipamConfigs": []any{map[string]any{"subnet": subnet, "ipRange": strings.TrimSuffix(subnet, "0/24") + "128/25"}}}))
	netID, _, err := Network{get}.Create(ctx, "n", netIn, false)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = (Network{get}).Delete(ctx, netID, nil) }()
	volIn, _ := Volume{get}.Check(props(map[string]any{"name": pfx + "-vol"}))
	volID, volOuts, err := Volume{get}.Create(ctx, "v", volIn, false)
	if err != nil || volOuts["mountpoint"].StringValue() == "" {
		t.Fatal(err, volOuts)
	}
	defer func() { _ = (Volume{get}).Delete(ctx, volID, nil) }()

	imgIn, _ := RemoteImage{get}.Check(props(map[string]any{"name": image, "keepLocally": true}))
	_, imgOuts, err := RemoteImage{get}.Create(ctx, "i", imgIn, false)
	if err != nil || !strings.HasPrefix(imgOuts["imageId"].StringValue(), "sha256:") {
		t.Fatal(err, imgOuts)
	}
	missing, _ := RemoteImage{get}.Check(props(map[string]any{"name": pfx + "/absent:1", "keepLocally": true}))
	if _, _, err := (RemoteImage{get}).Create(ctx, "i", missing, false); err == nil || !strings.Contains(err.Error(), "cannot pull") {
		t.Fatalf("absent image: %v", err)
	}

	cin, failures := Container{get}.Check(props(map[string]any{
		"name": pfx + "-c", "image": imgOuts["imageId"].StringValue(), "command": []any{"sleep", "300"},
		"envs":             []any{resource.MakeSecret(resource.NewStringProperty("SECRET=s3"))},
		"ports":            []any{map[string]any{"internal": 80.0, "ip": "127.0.0.1"}},
		"mounts":           []any{map[string]any{"type": "volume", "source": pfx + "-vol", "target": "/data"}},
		"networksAdvanced": []any{map[string]any{"name": pfx + "-net", "aliases": []any{"app"}, "ipv4Address": fixed}},
		"healthcheck":      map[string]any{"tests": []any{"CMD", "true"}, "interval": "1s"},
		"wait":             true, "memory": 64.0, "destroyGraceSeconds": 1.0,
	}))
	if len(failures) > 0 {
		t.Fatal(failures)
	}
	c := Container{get}
	id, outs, err := c.Create(ctx, "c", cin, false)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Delete(ctx, id, outs) }()
	port := outs["ports"].ArrayValue()[0].ObjectValue()["external"]
	if !port.IsNumber() || port.NumberValue() == 0 || !outs["envs"].ContainsSecrets() {
		t.Errorf("outputs: external port %v, envs secret %v", port, outs["envs"].ContainsSecrets())
	}
	var info struct {
		Config          struct{ Env []string }
		HostConfig      struct{ Memory int64 }
		NetworkSettings struct {
			Networks map[string]struct {
				Aliases   []string
				IPAddress string
			}
		}
	}
	_ = d.Call(ctx, "GET", "/containers/"+id+"/json", nil, nil, &info)
	if !contains(info.Config.Env, "SECRET=s3") || info.HostConfig.Memory != 64*mb ||
		!contains(info.NetworkSettings.Networks[pfx+"-net"].Aliases, "app") ||
		info.NetworkSettings.Networks[pfx+"-net"].IPAddress != fixed {
		t.Errorf("container as created: %+v", info)
	}

	more := cin.Copy()
	more["memory"] = resource.NewNumberProperty(128)
	if _, err := c.Update(ctx, id, outs, more, false); err != nil {
		t.Fatal(err)
	}
	_ = d.Call(ctx, "GET", "/containers/"+id+"/json", nil, nil, &info)
	if info.HostConfig.Memory != 128*mb {
		t.Errorf("memory update not applied: %d", info.HostConfig.Memory)
	}

	if err := c.Delete(ctx, id, outs); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, id, outs); err != nil {
		t.Fatalf("deleting a gone container must succeed: %v", err)
	}
	if gone, _, err := c.Read(ctx, id, outs); gone != "" || err != nil {
		t.Fatalf("read after delete: %q %v", gone, err)
	}
	var vol struct{ Name string }
	if err := d.Call(ctx, "GET", "/volumes/"+pfx+"-vol", nil, nil, &vol); errors.Is(err, ErrNotFound) {
		t.Fatal("container delete removed its volume")
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
