package standin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// RemoteImage is docker:index/remoteImage:RemoteImage (upstream: resource_docker_image.go).
// Differences: nothing is ever pulled (this stand-in cannot reach a registry): without `build` the
// image must already be on the host. With `build`, `docker build` runs as upstream builds.
// Upstream's id is "<image id><name>"; imageId is the image ID (sha256:...), repoDigest the
// first RepoDigest ("" for a local build). name, build, triggers, pullTriggers and platform are
// ForceNew upstream; keepLocally and forceRemove only change state.
type RemoteImage struct{ Docker func() (*Docker, error) }

var imageUpdatable = setOf("keepLocally", "forceRemove")

func (r RemoteImage) Check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	failures := Unsupported(news, setOf("name", "keepLocally", "forceRemove", "build", "triggers", "pullTriggers", "platform"))
	if v := news["name"]; !v.ContainsUnknowns() && (!v.IsString() || v.StringValue() == "") {
		failures = append(failures, &pulumirpc.CheckFailure{Property: "name", Reason: "name is required (e.g. postgres:16)"})
	}
	if b := news["build"]; b.IsObject() {
		failures = append(failures, Unsupported(b.ObjectValue(), setOf("context", "dockerfile", "buildArgs",
			"target", "labels", "networkMode", "noCache", "platform"))...)
	}
	return news, failures
}

func (r RemoteImage) Diff(olds, news resource.PropertyMap) *pulumirpc.DiffResponse {
	return DiffInputs(olds, news, func(k string) bool { return !imageUpdatable[k] }, "imageId", "repoDigest")
}

// BuildArgv is the `docker build` argv for a build block; pure. Build args are not secrets in
// this program (VERSION); a secret must never be passed as one.
func BuildArgv(name string, b map[string]any) []string {
	argv := []string{"build", "-t", name}
	if f := Str(b, "dockerfile"); f != "" {
		if !filepath.IsAbs(f) {
			f = filepath.Join(Str(b, "context"), f)
		}
		argv = append(argv, "-f", f)
	}
	args := StrMap(b, "buildArgs")
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		argv = append(argv, "--build-arg", k+"="+args[k])
	}
	for k, v := range map[string]string{"--target": Str(b, "target"), "--network": Str(b, "networkMode"),
		"--platform": Str(b, "platform")} {
		if v != "" {
			argv = append(argv, k, v)
		}
	}
	if Bool(b, "noCache", false) {
		argv = append(argv, "--no-cache")
	}
	return append(argv, Str(b, "context"))
}

func (r RemoteImage) Create(ctx context.Context, _ string, news resource.PropertyMap, preview bool) (string, resource.PropertyMap, error) {
	if preview {
		return "", WithOutputs(news, map[string]resource.PropertyValue{"imageId": Unknown(), "repoDigest": Unknown()}), nil
	}
	in := PlainMap(news)
	if b := Obj(in, "build"); b != nil {
		if _, err := CLI(ctx, BuildArgv(Str(in, "name"), b)...); err != nil {
			return "", nil, fmt.Errorf("building image %q: %w", Str(in, "name"), err)
		}
	}
	id, outs, err := r.Read(ctx, "", news)
	if err == nil && id == "" {
		err = fmt.Errorf("image %q is not on this Docker host, and the togather-standin docker plugin "+
			"cannot pull: build or load it first (docker build -t %s ... / docker load), or give it a `build`",
			Str(in, "name"), Str(in, "name"))
	}
	return id, outs, err
}

func (r RemoteImage) Read(ctx context.Context, _ string, olds resource.PropertyMap) (string, resource.PropertyMap, error) {
	d, err := r.Docker()
	if err != nil {
		return "", nil, err
	}
	name := Str(PlainMap(olds), "name")
	var info struct {
		ID          string `json:"Id"`
		RepoDigests []string
	}
	err = d.Call(ctx, "GET", "/images/"+name+"/json", nil, nil, &info)
	if errors.Is(err, ErrNotFound) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	digest := ""
	if len(info.RepoDigests) > 0 {
		digest = info.RepoDigests[0]
	}
	return info.ID + name, WithOutputs(olds, map[string]resource.PropertyValue{
		"imageId": resource.NewStringProperty(info.ID), "repoDigest": resource.NewStringProperty(digest)}), nil
}

func (r RemoteImage) Update(_ context.Context, _ string, olds, news resource.PropertyMap, _ bool) (resource.PropertyMap, error) {
	return WithOutputs(news, map[string]resource.PropertyValue{"imageId": olds["imageId"], "repoDigest": olds["repoDigest"]}), nil
}

// Delete: keepLocally leaves the image (upstream); otherwise remove it by ID, forced only with
// forceRemove, and an image still used by a container is left with that error as upstream does.
func (r RemoteImage) Delete(ctx context.Context, _ string, olds resource.PropertyMap) error {
	in := PlainMap(olds)
	if Bool(in, "keepLocally", false) {
		return nil
	}
	d, err := r.Docker()
	if err != nil {
		return err
	}
	q := url.Values{"force": {fmt.Sprint(Bool(in, "forceRemove", false))}}
	err = d.Call(ctx, "DELETE", "/images/"+url.PathEscape(Str(in, "imageId")), q, nil, nil)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
