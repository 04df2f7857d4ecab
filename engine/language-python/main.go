// Command pulumi-language-python is togather-deploy's Python language host for the Pulumi engine.
//
// Why our own: the upstream host is a Go module of its own (sdk/python/cmd/pulumi-language-python/v3)
// and the module proxy this project builds from refuses it (403 "not available"), while the CLI
// (pkg/v3) and the SDK (sdk/v3) are served. This host implements the part of the LanguageRuntime
// contract the engine uses to run a Python program and a Python policy pack, on top of sdk/v3:
//
//   - Run: starts the SDK's own `pulumi-language-python-exec` shim (installed beside this binary by
//     scripts/build-engine from the sdk/v3 module) with the project's virtualenv, passing the config
//     as PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS exactly as the upstream host does. Exit code 32
//     means the program already showed its error: the run "bails" without a second message.
//   - RunPlugin: runs a Python plugin directory (a policy pack's __main__.py) with its virtualenv and
//     streams its stdout/stderr back, so `pulumi preview --policy-pack policy` works.
//   - GetRequiredPackages/Plugins: none. The resource plugins are installed by scripts/build-engine;
//     the engine loads each one by the version the SDK registers.
//   - InstallDependencies: nothing; scripts/up and scripts/test create the venv from requirements.txt.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is set by scripts/build-engine through -ldflags (the CLI's version: they ship together).
var version = "0.0.0-dev"

// bailExitCode: pulumi-language-python-exec exits 32 after it has shown an actionable error.
const bailExitCode = 32

func main() {
	flag.String("tracing", "", "ignored: tracing endpoint")
	flag.String("root", "", "ignored: the engine sends the root directory in each request")
	flag.Parse()
	engine := ""
	if flag.NArg() > 0 {
		engine = flag.Arg(0)
	}
	self, err := os.Executable()
	if err != nil {
		fail(err)
	}
	host := &languageHost{engine: engine, execShim: filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fail(err)
	}
	fmt.Printf("%d\n", handle.Port) // the engine reads the port from our first line of stdout
	if err := <-handle.Done; err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
	os.Exit(1)
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engine   string
	execShim string
}

func (h *languageHost) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engine = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *languageHost) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *languageHost) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *languageHost) GetProgramDependencies(context.Context, *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *languageHost) About(_ context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	python, _ := pythonFor(req.GetInfo())
	return &pulumirpc.AboutResponse{Executable: python, Version: version}, nil
}

func (h *languageHost) RuntimeOptionsPrompts(context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *languageHost) InstallDependencies(_ *pulumirpc.InstallDependenciesRequest,
	stream pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	msg := "togather-deploy: the venv is created by scripts/up from requirements.txt\n"
	return stream.Send(&pulumirpc.InstallDependenciesResponse{Stdout: []byte(msg)})
}

func (h *languageHost) Run(_ context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	python, env := pythonFor(req.GetInfo())
	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(append([]string{}, req.GetConfigSecretKeys()...))
	if err != nil {
		return nil, err
	}
	args := []string{"-u", h.execShim}
	add := func(flag, value string) {
		if value != "" {
			args = append(args, "--"+flag, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engine)
	add("project", req.GetProject())
	add("root_directory", req.GetInfo().GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", fmt.Sprintf("%v", req.GetDryRun()))
	add("parallel", fmt.Sprint(req.GetParallel()))
	add("organization", req.GetOrganization())
	args = append(args, programPath(req.GetInfo(), req.GetProgram()))
	args = append(args, req.GetArgs()...)

	cmd := exec.Command(python, args...)
	cmd.Dir = req.GetPwd()
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == bailExitCode:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d",
			exitErr.ExitCode())}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not start %s: %v", python, err)}, nil
	}
}

func (h *languageHost) RunPlugin(req *pulumirpc.RunPluginRequest,
	stream pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	python, env := pythonFor(req.GetInfo())
	args := append([]string{"-u", programPath(req.GetInfo(), req.GetProgram())}, req.GetArgs()...)
	cmd := exec.Command(python, args...)
	cmd.Dir = req.GetPwd()
	cmd.Env = append(env, req.GetEnv()...)
	cmd.Stdout = streamWriter{func(b []byte) error {
		return stream.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
	}}
	cmd.Stderr = streamWriter{func(b []byte) error {
		return stream.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
	}}
	code := int32(0)
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return fmt.Errorf("could not start %s: %w", python, err)
		}
		code = int32(exitErr.ExitCode())
	}
	return stream.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}

// streamWriter sends each chunk the child writes; copies it since the caller reuses its buffer.
type streamWriter struct{ send func([]byte) error }

func (w streamWriter) Write(p []byte) (int, error) {
	if err := w.send(append([]byte(nil), p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// programPath is the program directory joined with its entry point ("." runs __main__.py).
func programPath(info *pulumirpc.ProgramInfo, legacy string) string {
	if info == nil || info.GetProgramDirectory() == "" {
		if legacy == "" {
			return "."
		}
		return legacy
	}
	return filepath.Join(info.GetProgramDirectory(), info.GetEntryPoint())
}

// pythonFor picks the interpreter from runtime.options.virtualenv (relative to the root directory,
// where Pulumi.yaml or PulumiPolicy.yaml lives) and returns the environment that activates it.
func pythonFor(info *pulumirpc.ProgramInfo) (string, []string) {
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYTHONHOME=") && !strings.HasPrefix(kv, "VIRTUAL_ENV=") {
			env = append(env, kv)
		}
	}
	venv := ""
	if opts := info.GetOptions(); opts != nil {
		if v, ok := opts.GetFields()["virtualenv"]; ok {
			venv = v.GetStringValue()
		}
	}
	if venv == "" {
		return "python3", env
	}
	if !filepath.IsAbs(venv) {
		venv = filepath.Join(info.GetRootDirectory(), venv)
	}
	venv = filepath.Clean(venv)
	bin := filepath.Join(venv, "bin")
	env = append(env, "VIRTUAL_ENV="+venv, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return filepath.Join(bin, "python"), env
}
