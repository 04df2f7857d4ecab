package standin

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

type inspected struct {
	ID    string `json:"Id"`
	Name  string
	State struct {
		Running  bool
		ExitCode int
		Health   *struct{ Status string }
	}
	NetworkSettings struct {
		Bridge   string
		Ports    map[string][]struct{ HostIp, HostPort string }
		Networks map[string]struct {
			IPAddress, Gateway, GlobalIPv6Address, IPv6Gateway, MacAddress string
			IPPrefixLen, GlobalIPv6PrefixLen                               int
		}
	}
}

// inspect reads the container and returns the state upstream keeps: the inputs, with the
// engine-chosen external ports filled in, plus bridge/networkDatas/exitCode.
func (c Container) inspect(ctx context.Context, d *Docker, id string, inputs resource.PropertyMap) (string, resource.PropertyMap, error) {
	var info inspected
	if err := d.Call(ctx, "GET", "/containers/"+url.PathEscape(id)+"/json", nil, nil, &info); err != nil {
		return "", nil, err
	}
	var datas []resource.PropertyValue
	names := make([]string, 0, len(info.NetworkSettings.Networks))
	for n := range info.NetworkSettings.Networks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		nd := info.NetworkSettings.Networks[n]
		datas = append(datas, resource.NewObjectProperty(resource.NewPropertyMapFromMap(map[string]any{
			"networkName": n, "ipAddress": nd.IPAddress, "ipPrefixLength": nd.IPPrefixLen,
			"gateway": nd.Gateway, "globalIpv6Address": nd.GlobalIPv6Address,
			"globalIpv6PrefixLength": nd.GlobalIPv6PrefixLen, "ipv6Gateway": nd.IPv6Gateway,
			"macAddress": nd.MacAddress})))
	}
	outs := WithOutputs(inputs, map[string]resource.PropertyValue{
		"bridge":       resource.NewStringProperty(info.NetworkSettings.Bridge),
		"networkDatas": resource.NewArrayProperty(datas),
		"exitCode":     resource.NewNumberProperty(float64(info.State.ExitCode)),
	})
	// Ports without `external` get one from the engine; record it as upstream does.
	if p, ok := outs["ports"]; ok && p.IsArray() {
		var arr []resource.PropertyValue
		for _, e := range p.ArrayValue() {
			if e.IsObject() {
				pm := e.ObjectValue().Copy()
				if ext := pm["external"]; ext.IsNull() {
					key := strconv.Itoa(int(Int(PlainMap(pm), "internal"))) + "/" + Str(PlainMap(pm), "protocol")
					if b := info.NetworkSettings.Ports[key]; len(b) > 0 {
						if n, err := strconv.Atoi(b[0].HostPort); err == nil {
							pm["external"] = resource.NewNumberProperty(float64(n))
						}
					}
				}
				e = resource.NewObjectProperty(pm)
			}
			arr = append(arr, e)
		}
		outs["ports"] = resource.NewArrayProperty(arr)
	}
	return info.ID, outs, nil
}

// Read mirrors upstream resourceDockerContainerRead: a missing container is gone; with
// mustRun (default true) a stopped container also reads as gone, so the next up recreates it.
func (c Container) Read(ctx context.Context, id string, olds resource.PropertyMap) (string, resource.PropertyMap, error) {
	d, err := c.Docker()
	if err != nil {
		return "", nil, err
	}
	var info inspected
	err = d.Call(ctx, "GET", "/containers/"+url.PathEscape(id)+"/json", nil, nil, &info)
	if errors.Is(err, ErrNotFound) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	if Bool(PlainMap(olds), "mustRun", true) && !info.State.Running {
		return "", nil, nil
	}
	return c.inspect(ctx, d, id, olds)
}

// Update mirrors upstream resourceDockerContainerUpdate: restart policy and resource limits go
// through the engine's container update; the other updatable attributes only change state.
func (c Container) Update(ctx context.Context, id string, olds, news resource.PropertyMap, preview bool) (resource.PropertyMap, error) {
	outs := news.Copy()
	for _, k := range containerOutputs {
		if v, ok := olds[resource.PropertyKey(k)]; ok {
			outs[resource.PropertyKey(k)] = v
		}
	}
	if preview {
		return outs, nil
	}
	o, n := PlainMap(olds), PlainMap(news)
	body := map[string]any{}
	if Str(o, "restart") != Str(n, "restart") || Int(o, "maxRetryCount") != Int(n, "maxRetryCount") {
		body["RestartPolicy"] = map[string]any{"Name": Str(n, "restart"), "MaximumRetryCount": Int(n, "maxRetryCount")}
	}
	if Int(o, "memory") != Int(n, "memory") || Int(o, "memorySwap") != Int(n, "memorySwap") {
		body["Memory"] = Int(n, "memory") * mb
		if s := Int(n, "memorySwap"); s > 0 {
			body["MemorySwap"] = s * mb
		} else if s == -1 || Int(n, "memory") > 0 {
			body["MemorySwap"] = -1
		}
	}
	if Int(o, "cpuShares") != Int(n, "cpuShares") {
		body["CpuShares"] = Int(n, "cpuShares")
	}
	if Str(o, "cpuSet") != Str(n, "cpuSet") {
		body["CpusetCpus"] = Str(n, "cpuSet")
	}
	if len(body) > 0 {
		d, err := c.Docker()
		if err != nil {
			return nil, err
		}
		if err := d.Call(ctx, "POST", "/containers/"+url.PathEscape(id)+"/update", nil, body, nil); err != nil {
			return nil, err
		}
	}
	return outs, nil
}

// Delete mirrors upstream resourceDockerContainerDelete (stop with destroyGraceSeconds, then
// force-remove) except that volumes are NEVER removed, not even anonymous ones: removing a
// container must not be able to take data with it. A container already gone is success.
func (c Container) Delete(ctx context.Context, id string, olds resource.PropertyMap) error {
	d, err := c.Docker()
	if err != nil {
		return err
	}
	in := PlainMap(olds)
	if grace, ok := in["destroyGraceSeconds"].(float64); ok {
		err := d.Call(ctx, "POST", "/containers/"+url.PathEscape(id)+"/stop",
			url.Values{"t": {strconv.Itoa(int(grace))}}, nil, nil)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		// 304 (already stopped) is not an error; other failures fall through to the forced remove.
	}
	err = d.Call(ctx, "DELETE", "/containers/"+url.PathEscape(id), url.Values{"force": {"1"}, "v": {"0"}}, nil, nil)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
