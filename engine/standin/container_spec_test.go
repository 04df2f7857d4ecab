package standin

import (
	"reflect"
	"testing"
)

func TestBuildContainerCreate(t *testing.T) {
	in := PlainMap(containerIn(map[string]any{
		"ports":  []any{map[string]any{"internal": 8080.0, "external": 18080.0, "ip": "127.0.0.1"}},
		"mounts": []any{map[string]any{"type": "volume", "source": "pgdata", "target": "/data", "readOnly": true}},
		"networksAdvanced": []any{map[string]any{"name": "net1", "aliases": []any{"db"}, "ipv4Address": "10.77.0.2"},
			map[string]any{"name": "net2"}},
		"healthcheck": map[string]any{"tests": []any{"CMD", "python3", "/app/hc.py"}, "interval": "5s",
			"timeout": "2s", "retries": 3.0, "startPeriod": "0s"},
		"logDriver": "json-file", "logOpts": map[string]any{"max-size": "10m"},
		"labels": []any{map[string]any{"label": "togather.role", "value": "app"}},
	}))
	spec, err := BuildContainerCreate(in)
	if err != nil {
		t.Fatal(err)
	}
	b, host := spec.Body, spec.Body["HostConfig"].(map[string]any)
	// exec-form healthcheck kept as given (the CLI's --health-cmd would turn it into CMD-SHELL)
	hc := b["Healthcheck"].(map[string]any)
	if !reflect.DeepEqual(hc["Test"], []string{"CMD", "python3", "/app/hc.py"}) || hc["Interval"] != int64(5e9) ||
		hc["Retries"] != int64(3) || hc["StartPeriod"] != nil {
		t.Errorf("healthcheck: %v", hc)
	}
	if host["Memory"] != int64(256*mb) {
		t.Errorf("memory is MB upstream: %v", host["Memory"])
	}
	if host["NetworkMode"] != "net1" || len(spec.Extra) != 1 || spec.Extra[0]["name"] != "net2" {
		t.Errorf("networks: %v %v", host["NetworkMode"], spec.Extra)
	}
	ep := b["NetworkingConfig"].(map[string]any)["EndpointsConfig"].(map[string]any)["net1"].(map[string]any)
	if ep["IPAMConfig"].(map[string]any)["IPv4Address"] != "10.77.0.2" {
		t.Errorf("fixed address: %v", ep)
	}
	bind := host["PortBindings"].(map[string]any)["8080/tcp"].([]any)[0].(map[string]any)
	if bind["HostIp"] != "127.0.0.1" || bind["HostPort"] != "18080" {
		t.Errorf("ports: %v", bind)
	}
	m := host["Mounts"].([]any)[0].(map[string]any)
	if m["Source"] != "pgdata" || m["ReadOnly"] != true {
		t.Errorf("mounts: %v", m)
	}
	if host["RestartPolicy"].(map[string]any)["Name"] != "unless-stopped" {
		t.Errorf("restart: %v", host["RestartPolicy"])
	}
	if b["Labels"].(map[string]string)["togather.role"] != "app" {
		t.Errorf("labels: %v", b["Labels"])
	}
}

func TestBuildContainerCreateRefusesBadDuration(t *testing.T) {
	in := PlainMap(containerIn(map[string]any{"healthcheck": map[string]any{"tests": []any{"CMD", "true"}, "interval": "5 seconds"}}))
	if _, err := BuildContainerCreate(in); err == nil {
		t.Fatal("a bad interval must fail naming the field")
	}
}
