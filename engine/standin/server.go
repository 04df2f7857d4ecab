package standin

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Marker is what GetSchema's description and `--version` carry, so a stand-in can be told apart.
const Marker = "togather-standin"

// Resource is one resource type of a stand-in provider. Check and Diff must stay pure.
type Resource interface {
	Check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure)
	Diff(oldInputs, news resource.PropertyMap) *pulumirpc.DiffResponse
	Create(ctx context.Context, name string, news resource.PropertyMap, preview bool) (string, resource.PropertyMap, error)
	// Read returns id "" when the object is gone.
	Read(ctx context.Context, id string, olds resource.PropertyMap) (string, resource.PropertyMap, error)
	Update(ctx context.Context, id string, olds, news resource.PropertyMap, preview bool) (resource.PropertyMap, error)
	Delete(ctx context.Context, id string, olds resource.PropertyMap) error
}

// Server is a pulumirpc.ResourceProviderServer dispatching on the resource type token.
type Server struct {
	pulumirpc.UnimplementedResourceProviderServer
	Package   string
	Version   string
	Resources map[string]Resource
}

var wire = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: false}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	return plugin.UnmarshalProperties(s, wire)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, wire)
}

func (s *Server) res(urnOrType string) (Resource, error) {
	t := urnOrType
	if u, err := resource.ParseURN(urnOrType); err == nil {
		t = string(u.Type())
	}
	r, ok := s.Resources[t]
	if !ok {
		return nil, fmt.Errorf("%s stand-in: resource type %q is not implemented (only what togather-deploy uses is)", s.Package, t)
	}
	return r, nil
}

func (s *Server) Handshake(context.Context, *pulumirpc.ProviderHandshakeRequest) (*pulumirpc.ProviderHandshakeResponse, error) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true}, nil
}

func (s *Server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: s.Version}, nil
}

func (s *Server) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	b, err := json.Marshal(map[string]any{
		"name": s.Package, "version": s.Version,
		"description": Marker + ": stand-in for the upstream " + s.Package + " provider, see engine/standin/doc.go",
	})
	return &pulumirpc.GetSchemaResponse{Schema: string(b)}, err
}

func (s *Server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *Server) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (s *Server) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

func (s *Server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	r, err := s.res(req.GetUrn())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	checked, failures := r.Check(news)
	out, err := marshal(checked)
	return &pulumirpc.CheckResponse{Inputs: out, Failures: failures}, err
}

func (s *Server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	r, err := s.res(req.GetUrn())
	if err != nil {
		return nil, err
	}
	// Compare against the old *inputs* when the engine sends them; old outputs also hold
	// computed values that are not inputs.
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	if req.GetOldInputs() == nil {
		if olds, err = unmarshal(req.GetOlds()); err != nil {
			return nil, err
		}
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	return r.Diff(olds, news), nil
}

func (s *Server) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	r, err := s.res(req.GetUrn())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	name := req.GetName()
	if u, perr := resource.ParseURN(req.GetUrn()); perr == nil {
		name = u.Name()
	}
	id, outs, err := r.Create(ctx, name, news, req.GetPreview())
	if err != nil {
		return nil, err
	}
	props, err := marshal(outs)
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, err
}

func (s *Server) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	r, err := s.res(req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	id, outs, err := r.Read(ctx, req.GetId(), olds)
	if err != nil || id == "" {
		return &pulumirpc.ReadResponse{}, err
	}
	props, err := marshal(outs)
	return &pulumirpc.ReadResponse{Id: id, Properties: props, Inputs: req.GetInputs()}, err
}

func (s *Server) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	r, err := s.res(req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	outs, err := r.Update(ctx, req.GetId(), olds, news, req.GetPreview())
	if err != nil {
		return nil, err
	}
	props, err := marshal(outs)
	return &pulumirpc.UpdateResponse{Properties: props}, err
}

func (s *Server) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	r, err := s.res(req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, r.Delete(ctx, req.GetId(), olds)
}

func (s *Server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// Main serves s like every plugin: the port on stdout's first line. `--version` prints the
// version with the stand-in marker instead.
func Main(s *Server) {
	for _, a := range os.Args[1:] {
		if a == "--version" || a == "-version" {
			fmt.Printf("%s %s\n", s.Version, Marker)
			return
		}
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(g *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(g, s)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s stand-in: %v\n", s.Package, err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "%s stand-in: %v\n", s.Package, err)
		os.Exit(1)
	}
}
