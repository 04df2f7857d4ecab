package standin

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func props(m map[string]any) resource.PropertyMap { return resource.NewPropertyMapFromMap(m) }

func containerIn(over map[string]any) resource.PropertyMap {
	base := map[string]any{"name": "t-app", "image": "sha256:aaa", "envs": []any{"A=1"},
		"memory": 256.0, "restart": "unless-stopped", "destroyGraceSeconds": 10.0}
	for k, v := range over {
		base[k] = v
	}
	checked, failures := Container{}.Check(props(base))
	if len(failures) > 0 {
		panic(failures[0].Reason)
	}
	return checked
}

func TestContainerDiffForceNewVsUpdate(t *testing.T) {
	old := containerIn(nil)
	cases := []struct {
		change  map[string]any
		replace bool
	}{
		{map[string]any{"image": "sha256:bbb"}, true}, // ForceNew upstream
		{map[string]any{"envs": []any{"A=2"}}, true},  // env is ForceNew upstream
		{map[string]any{"healthcheck": map[string]any{"tests": []any{"CMD", "true"}}}, true},
		{map[string]any{"memory": 512.0}, false},             // docker update
		{map[string]any{"restart": "always"}, false},         // docker update
		{map[string]any{"destroyGraceSeconds": 30.0}, false}, // state only
		{map[string]any{"mustRun": false}, false},            // state only
		// networks_advanced is ForceNew upstream: a new fixed address is a new container
		{map[string]any{"networksAdvanced": []any{map[string]any{"name": "n", "ipv4Address": "10.77.0.10"}}}, true},
	}
	for _, c := range cases {
		d := Container{}.Diff(old, containerIn(c.change))
		if d.Changes != pulumirpc.DiffResponse_DIFF_SOME {
			t.Fatalf("%v: no change detected", c.change)
		}
		if got := len(d.Replaces) > 0; got != c.replace {
			t.Errorf("%v: replace = %v, want %v (replaces %v)", c.change, got, c.replace, d.Replaces)
		}
	}
	if d := (Container{}).Diff(old, containerIn(nil)); d.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("same inputs diff: %v", d.Diffs)
	}
}

func TestDiffIgnoresSecretnessAndOutputs(t *testing.T) {
	old := containerIn(nil)
	old["envs"] = resource.MakeSecret(old["envs"])
	old["bridge"] = resource.NewStringProperty("br0") // an output, not an input
	if d := (Container{}).Diff(old, containerIn(nil)); d.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("secret wrapper or output counted as a change: %v", d.Diffs)
	}
}

func TestUnknownInputIsAChange(t *testing.T) {
	news := containerIn(nil)
	news["image"] = Unknown()
	d := Container{}.Diff(containerIn(nil), news)
	if len(d.Replaces) != 1 || d.Replaces[0] != "image" {
		t.Errorf("unknown image should replace: %v", d.Replaces)
	}
}

func TestCheckDefaultsAndRefusals(t *testing.T) {
	c := containerIn(map[string]any{"ports": []any{map[string]any{"internal": 80.0}}})
	p := c["ports"].ArrayValue()[0].ObjectValue()
	if p["ip"].StringValue() != "0.0.0.0" || p["protocol"].StringValue() != "tcp" {
		t.Errorf("port defaults: %v", p)
	}
	if !c["mustRun"].BoolValue() || !c["start"].BoolValue() || c["waitTimeout"].NumberValue() != 60 {
		t.Errorf("defaults: %v", c)
	}
	_, failures := Container{}.Check(props(map[string]any{"name": "x", "image": "y", "gpus": "all"}))
	if len(failures) != 1 || failures[0].Property != "gpus" {
		t.Errorf("unimplemented input must be refused by name: %v", failures)
	}
	_, failures = Container{}.Check(props(map[string]any{"name": "x", "image": "y", "restart": "sometimes"}))
	if len(failures) != 1 || failures[0].Property != "restart" {
		t.Errorf("bad restart must be refused: %v", failures)
	}
}

func TestOtherDiffRules(t *testing.T) {
	img := props(map[string]any{"name": "pg:16", "keepLocally": true})
	if d := (RemoteImage{}).Diff(img, props(map[string]any{"name": "pg:16", "keepLocally": false})); len(d.Replaces) != 0 || len(d.Diffs) != 1 {
		t.Errorf("keepLocally is an in-place update: %+v", d)
	}
	if d := (RemoteImage{}).Diff(img, props(map[string]any{"name": "pg:17", "keepLocally": true})); len(d.Replaces) != 1 {
		t.Errorf("name replaces: %+v", d)
	}
	cmd := props(map[string]any{"create": "a", "triggers": []any{"a"}})
	if d := (LocalCommand{}).Diff(cmd, props(map[string]any{"create": "a", "triggers": []any{"b"}})); len(d.Replaces) != 1 {
		t.Errorf("triggers replace: %+v", d)
	}
	if d := (LocalCommand{}).Diff(cmd, props(map[string]any{"create": "b", "triggers": []any{"a"}})); len(d.Replaces) != 0 || len(d.Diffs) != 1 {
		t.Errorf("create change is an update: %+v", d)
	}
	pw := props(map[string]any{"length": 32.0, "special": false})
	if d := (RandomPassword{}).Diff(pw, props(map[string]any{"length": 33.0, "special": false})); len(d.Replaces) != 1 {
		t.Errorf("password length replaces: %+v", d)
	}
	if d := (RandomPassword{}).Diff(pw, pw); d.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("same password inputs: %+v", d)
	}
	nw := props(map[string]any{"name": "n", "labels": []any{map[string]any{"label": "a", "value": "b"}}})
	if d := (Network{}).Diff(nw, props(map[string]any{"name": "n"})); len(d.Replaces) != 1 {
		t.Errorf("network labels replace: %+v", d)
	}
	ipam := func(subnet string) resource.PropertyMap {
		return props(map[string]any{"name": "n", "ipamConfigs": []any{map[string]any{"subnet": subnet}}})
	}
	if d := (Network{}).Diff(ipam("10.77.0.0/24"), ipam("10.78.0.0/24")); len(d.Replaces) != 1 || d.Replaces[0] != "ipamConfigs" {
		t.Errorf("ipam_config is ForceNew upstream: %+v", d)
	}
}
