package standin

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The wire as the engine speaks it: a real gRPC server and client, secrets and unknowns marshalled.
func dial(t *testing.T, s *Server) pulumirpc.ResourceProviderClient {
	t.Helper()
	cancel := make(chan bool)
	h, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{Cancel: cancel, Init: func(g *grpc.Server) error {
		pulumirpc.RegisterResourceProviderServer(g, s)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient("127.0.0.1:"+itoa(h.Port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(); close(cancel) })
	return pulumirpc.NewResourceProviderClient(conn)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestWireSecretsUnknownsAndMarker(t *testing.T) {
	c := dial(t, &Server{Package: "random", Version: "4.21.4",
		Resources: map[string]Resource{"random:index/randomPassword:RandomPassword": RandomPassword{}}})
	ctx := context.Background()
	info, err := c.GetPluginInfo(ctx, &emptypb.Empty{})
	if err != nil || info.Version != "4.21.4" {
		t.Fatal(info, err)
	}
	schema, _ := c.GetSchema(ctx, &pulumirpc.GetSchemaRequest{})
	if !strings.Contains(schema.GetSchema(), Marker) {
		t.Errorf("schema lacks the stand-in marker: %s", schema.GetSchema())
	}
	urn := "urn:pulumi:dev::p::random:index/randomPassword:RandomPassword::pw"
	news, _ := marshal(props(map[string]any{"length": 24.0, "special": false}))
	chk, err := c.Check(ctx, &pulumirpc.CheckRequest{Urn: urn, News: news})
	if err != nil || len(chk.Failures) > 0 {
		t.Fatal(chk, err)
	}
	prev, err := c.Create(ctx, &pulumirpc.CreateRequest{Urn: urn, Properties: chk.Inputs, Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	pm, _ := unmarshal(prev.Properties)
	if !pm["result"].IsSecret() || !pm["result"].ContainsUnknowns() {
		t.Errorf("preview result should be a secret unknown: %v", pm["result"])
	}
	made, err := c.Create(ctx, &pulumirpc.CreateRequest{Urn: urn, Properties: chk.Inputs})
	if err != nil || made.Id != "none" {
		t.Fatal(made, err)
	}
	got, _ := unmarshal(made.Properties)
	if !got["result"].IsSecret() || len(Plain(got["result"]).(string)) != 24 {
		t.Errorf("result must be a 24-char secret: secret=%v", got["result"].IsSecret())
	}
	unknownLen := resource.PropertyMap{"length": Unknown()}
	news, _ = marshal(unknownLen)
	if _, err := c.Check(ctx, &pulumirpc.CheckRequest{Urn: urn, News: news}); err != nil {
		t.Errorf("check with an unknown input: %v", err)
	}
	d, err := c.Diff(ctx, &pulumirpc.DiffRequest{Urn: urn, Olds: made.Properties, OldInputs: chk.Inputs, News: chk.Inputs})
	if err != nil || d.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("no-op diff: %v %v", d, err)
	}
	if _, err := c.Check(ctx, &pulumirpc.CheckRequest{Urn: "urn:pulumi:dev::p::random:index/randomUuid:RandomUuid::u", News: news}); err == nil ||
		!strings.Contains(err.Error(), "not implemented") {
		t.Errorf("unknown type must say not implemented: %v", err)
	}
}
