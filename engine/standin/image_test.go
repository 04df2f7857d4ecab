package standin

import (
	"reflect"
	"testing"
)

func TestBuildArgv(t *testing.T) {
	got := BuildArgv("togather-demo-app:v1", map[string]any{"context": "demo-app",
		"buildArgs": map[string]any{"VERSION": "v1", "A": "b"}, "dockerfile": "Dockerfile"})
	want := []string{"build", "-t", "togather-demo-app:v1", "-f", "demo-app/Dockerfile",
		"--build-arg", "A=b", "--build-arg", "VERSION=v1", "demo-app"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v", got)
	}
}

func TestRemoteImageCheck(t *testing.T) {
	_, failures := RemoteImage{}.Check(props(map[string]any{"keepLocally": true}))
	if len(failures) != 1 || failures[0].Property != "name" {
		t.Errorf("missing name: %v", failures)
	}
	_, failures = RemoteImage{}.Check(props(map[string]any{"name": "x", "build": map[string]any{
		"context": ".", "secrets": map[string]any{"a": "b"}}}))
	if len(failures) != 1 || failures[0].Property != "secrets" {
		t.Errorf("unimplemented build option: %v", failures)
	}
}
