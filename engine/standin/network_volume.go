package standin

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Network is docker:index/network:Network. Upstream (resource_docker_network.go) marks every
// argument ForceNew except labels handling aside; here every input change replaces.
type Network struct{ Docker func() (*Docker, error) }

var networkSupported = setOf("name", "driver", "internal", "attachable", "ipv6", "options", "labels",
	"ipamDriver", "ipamConfigs", "checkDuplicate")

func (n Network) Check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	out := Defaults(news, map[string]any{"driver": "bridge", "internal": false, "attachable": false,
		"ipv6": false, "ipamDriver": "default"})
	return out, Unsupported(out, networkSupported)
}

func (n Network) Diff(olds, news resource.PropertyMap) *pulumirpc.DiffResponse {
	return DiffInputs(olds, news, func(string) bool { return true }, "scope")
}

func (n Network) Create(ctx context.Context, _ string, news resource.PropertyMap, preview bool) (string, resource.PropertyMap, error) {
	if preview {
		return "", WithOutputs(news, map[string]resource.PropertyValue{"scope": Unknown()}), nil
	}
	d, err := n.Docker()
	if err != nil {
		return "", nil, err
	}
	in := PlainMap(news)
	var pools []any
	for _, c := range List(in, "ipamConfigs") {
		if cm, ok := c.(map[string]any); ok {
			pools = append(pools, map[string]any{"Subnet": Str(cm, "subnet"), "Gateway": Str(cm, "gateway"),
				"IPRange": Str(cm, "ipRange"), "AuxiliaryAddresses": StrMap(cm, "auxAddress")})
		}
	}
	body := map[string]any{"Name": Str(in, "name"), "Driver": Str(in, "driver"), "CheckDuplicate": true,
		"Internal": Bool(in, "internal", false), "Attachable": Bool(in, "attachable", false),
		"EnableIPv6": Bool(in, "ipv6", false), "Options": StrMap(in, "options"), "Labels": labels(in),
		"IPAM": map[string]any{"Driver": Str(in, "ipamDriver"), "Config": pools}}
	var created struct {
		ID string `json:"Id"`
	}
	if err := d.Call(ctx, "POST", "/networks/create", nil, body, &created); err != nil {
		return "", nil, fmt.Errorf("creating network %q: %w (if it exists from an interrupted run: "+
			"docker network rm %s, or import it)", Str(in, "name"), err, Str(in, "name"))
	}
	return n.Read(ctx, created.ID, news)
}

func (n Network) Read(ctx context.Context, id string, olds resource.PropertyMap) (string, resource.PropertyMap, error) {
	d, err := n.Docker()
	if err != nil {
		return "", nil, err
	}
	var info struct {
		ID    string `json:"Id"`
		Scope string
	}
	err = d.Call(ctx, "GET", "/networks/"+url.PathEscape(id), nil, nil, &info)
	if errors.Is(err, ErrNotFound) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	return info.ID, WithOutputs(olds, map[string]resource.PropertyValue{"scope": resource.NewStringProperty(info.Scope)}), nil
}

func (n Network) Update(_ context.Context, _ string, olds, news resource.PropertyMap, _ bool) (resource.PropertyMap, error) {
	return WithOutputs(news, map[string]resource.PropertyValue{"scope": olds["scope"]}), nil
}

func (n Network) Delete(ctx context.Context, id string, _ resource.PropertyMap) error {
	d, err := n.Docker()
	if err != nil {
		return err
	}
	if err := d.Call(ctx, "DELETE", "/networks/"+url.PathEscape(id), nil, nil, nil); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// Volume is docker:index/volume:Volume; upstream (resource_docker_volume.go) marks name, driver,
// driverOpts and labels ForceNew. The engine's volume create answers with the existing volume of
// that name, so an interrupted create is simply retried. Delete removes the volume (as upstream);
// the program protects and retains its data volume, so the engine never calls it for that one.
type Volume struct{ Docker func() (*Docker, error) }

func (v Volume) Check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	out := Defaults(news, map[string]any{"driver": "local"})
	return out, Unsupported(out, setOf("name", "driver", "driverOpts", "labels"))
}

func (v Volume) Diff(olds, news resource.PropertyMap) *pulumirpc.DiffResponse {
	return DiffInputs(olds, news, func(string) bool { return true }, "mountpoint")
}

func (v Volume) Create(ctx context.Context, name string, news resource.PropertyMap, preview bool) (string, resource.PropertyMap, error) {
	in := PlainMap(news)
	if preview {
		return "", WithOutputs(news, map[string]resource.PropertyValue{"mountpoint": Unknown()}), nil
	}
	d, err := v.Docker()
	if err != nil {
		return "", nil, err
	}
	body := map[string]any{"Name": Str(in, "name"), "Driver": Str(in, "driver"),
		"DriverOpts": StrMap(in, "driverOpts"), "Labels": labels(in)}
	var created struct{ Name string }
	if err := d.Call(ctx, "POST", "/volumes/create", nil, body, &created); err != nil {
		return "", nil, fmt.Errorf("creating volume %q: %w", Str(in, "name"), err)
	}
	return v.Read(ctx, created.Name, news)
}

func (v Volume) Read(ctx context.Context, id string, olds resource.PropertyMap) (string, resource.PropertyMap, error) {
	d, err := v.Docker()
	if err != nil {
		return "", nil, err
	}
	var info struct{ Name, Mountpoint string }
	err = d.Call(ctx, "GET", "/volumes/"+url.PathEscape(id), nil, nil, &info)
	if errors.Is(err, ErrNotFound) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	outs := WithOutputs(olds, map[string]resource.PropertyValue{"mountpoint": resource.NewStringProperty(info.Mountpoint)})
	outs["name"] = resource.NewStringProperty(info.Name)
	return info.Name, outs, nil
}

func (v Volume) Update(_ context.Context, _ string, olds, news resource.PropertyMap, _ bool) (resource.PropertyMap, error) {
	return WithOutputs(news, map[string]resource.PropertyValue{"mountpoint": olds["mountpoint"]}), nil
}

func (v Volume) Delete(ctx context.Context, id string, _ resource.PropertyMap) error {
	d, err := v.Docker()
	if err != nil {
		return err
	}
	if err := d.Call(ctx, "DELETE", "/volumes/"+url.PathEscape(id), nil, nil, nil); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}
