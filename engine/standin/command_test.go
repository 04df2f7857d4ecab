package standin

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocalCommandLifecycle(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	in, _ := LocalCommand{}.Check(props(map[string]any{
		"create": "echo made > f; echo out-$NAME", "update": "echo was:$PULUMI_COMMAND_STDOUT",
		"delete": "rm f", "dir": dir, "environment": map[string]any{"NAME": "x"},
		"interpreter": []any{"/bin/sh", "-c"}}))
	id, outs, err := LocalCommand{}.Create(ctx, "c", in, false)
	if err != nil || !strings.HasPrefix(id, "c") || outs["stdout"].StringValue() != "out-x" {
		t.Fatalf("create: %q %v %v", id, outs["stdout"], err)
	}
	if _, err := os.Stat(filepath.Join(dir, "f")); err != nil {
		t.Fatal("create did not run in dir")
	}
	outs, err = LocalCommand{}.Update(ctx, id, outs, in, false)
	if err != nil || outs["stdout"].StringValue() != "was:out-x" {
		t.Fatalf("update: %v %v", outs["stdout"], err)
	}
	if err := (LocalCommand{}).Delete(ctx, id, outs); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "f")); !os.IsNotExist(err) {
		t.Fatal("delete did not run")
	}
}

func TestLocalCommandFailureCarriesStderr(t *testing.T) {
	in, _ := LocalCommand{}.Check(props(map[string]any{"create": "echo nope >&2; exit 3"}))
	_, _, err := LocalCommand{}.Create(context.Background(), "c", in, false)
	if err == nil || !strings.Contains(err.Error(), "nope") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("want the exit status and stderr, got %v", err)
	}
}

func TestPreviewRunsNothing(t *testing.T) {
	dir := t.TempDir()
	in, _ := LocalCommand{}.Check(props(map[string]any{"create": "touch f", "dir": dir}))
	_, outs, err := LocalCommand{}.Create(context.Background(), "c", in, true)
	if err != nil || !outs["stdout"].IsComputed() {
		t.Fatalf("preview: %v %v", outs, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "f")); !os.IsNotExist(err) {
		t.Fatal("preview ran the command")
	}
}
