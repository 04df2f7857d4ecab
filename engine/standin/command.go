package standin

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// LocalCommand is command:local:Command. Mirrors pulumi/pulumi-command provider/pkg/provider/local:
// interpreter defaults to ["/bin/sh", "-c"]; the command runs in `dir` with the provider's
// environment plus `environment`; on update/delete PULUMI_COMMAND_STDOUT/STDERR carry the previous
// outputs (addPreviousOutputInEnv, default true); stdout/stderr outputs have one trailing newline
// trimmed; a non-zero exit fails with the command's stderr. A change to `triggers` replaces (the
// SDK itself declares replaceOnChanges triggers[*]); any other change is an update, which runs
// `update`, or `create` again when `update` is empty (the SDK's documented behaviour). Not implemented: assetPaths/archivePaths (not used here), logging modes (output is
// captured, not streamed).
type LocalCommand struct{}

var commandSupported = setOf("create", "update", "delete", "dir", "environment", "interpreter", "triggers",
	"stdin", "addPreviousOutputInEnv", "logging")

func (LocalCommand) Check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	out := Defaults(news, map[string]any{"addPreviousOutputInEnv": true})
	return out, Unsupported(out, commandSupported)
}

func (LocalCommand) Diff(olds, news resource.PropertyMap) *pulumirpc.DiffResponse {
	return DiffInputs(olds, news, func(k string) bool { return k == "triggers" }, "stdout", "stderr")
}

// CommandArgv is interpreter + [script]; pure.
func CommandArgv(in map[string]any, script string) []string {
	argv := Strings(in, "interpreter")
	if len(argv) == 0 {
		argv = []string{"/bin/sh", "-c"}
	}
	return append(append([]string{}, argv...), script)
}

// Run runs script per the inputs; prev holds the previous stdout/stderr (nil on create).
func Run(ctx context.Context, in map[string]any, script string, prev map[string]any) (string, string, error) {
	argv := CommandArgv(in, script)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = Str(in, "dir")
	env := os.Environ()
	vars := StrMap(in, "environment")
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+vars[k])
	}
	if prev != nil && Bool(in, "addPreviousOutputInEnv", true) {
		env = append(env, "PULUMI_COMMAND_STDOUT="+Str(prev, "stdout"), "PULUMI_COMMAND_STDERR="+Str(prev, "stderr"))
	}
	cmd.Env = env
	if s := Str(in, "stdin"); s != "" {
		cmd.Stdin = strings.NewReader(s)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	outS, errS := strings.TrimSuffix(stdout.String(), "\n"), strings.TrimSuffix(stderr.String(), "\n")
	if err != nil {
		return outS, errS, fmt.Errorf("command failed: %w: %s", err, errS)
	}
	return outS, errS, nil
}

func commandOutputs(news resource.PropertyMap, stdout, stderr string) resource.PropertyMap {
	return WithOutputs(news, map[string]resource.PropertyValue{
		"stdout": resource.NewStringProperty(stdout), "stderr": resource.NewStringProperty(stderr)})
}

func (LocalCommand) Create(ctx context.Context, name string, news resource.PropertyMap, preview bool) (string, resource.PropertyMap, error) {
	if preview {
		return "", WithOutputs(news, map[string]resource.PropertyValue{"stdout": Unknown(), "stderr": Unknown()}), nil
	}
	in := PlainMap(news)
	var stdout, stderr string
	if script := Str(in, "create"); script != "" {
		var err error
		if stdout, stderr, err = Run(ctx, in, script, nil); err != nil {
			return "", nil, err
		}
	}
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return "", nil, err
	}
	return name + hex.EncodeToString(suffix), commandOutputs(news, stdout, stderr), nil
}

func (LocalCommand) Read(_ context.Context, id string, olds resource.PropertyMap) (string, resource.PropertyMap, error) {
	return id, olds, nil
}

func (LocalCommand) Update(ctx context.Context, _ string, olds, news resource.PropertyMap, preview bool) (resource.PropertyMap, error) {
	if preview {
		return WithOutputs(news, map[string]resource.PropertyValue{"stdout": Unknown(), "stderr": Unknown()}), nil
	}
	in, prev := PlainMap(news), PlainMap(olds)
	script := Str(in, "update")
	if script == "" {
		script = Str(in, "create")
	}
	if script == "" {
		return commandOutputs(news, Str(prev, "stdout"), Str(prev, "stderr")), nil
	}
	stdout, stderr, err := Run(ctx, in, script, prev)
	if err != nil {
		return nil, err
	}
	return commandOutputs(news, stdout, stderr), nil
}

func (LocalCommand) Delete(ctx context.Context, _ string, olds resource.PropertyMap) error {
	in := PlainMap(olds)
	if script := Str(in, "delete"); script != "" {
		_, _, err := Run(ctx, in, script, in)
		return err
	}
	return nil
}
