// Package standin holds STAND-IN resource plugins for pulumi-docker 5.2.0, pulumi-random 4.21.4
// and pulumi-command 1.2.1: the upstream plugins cannot be fetched or built on the machines this
// project is developed on (the Go module proxy refuses their modules), so the real Pulumi engine
// could not run the real program at all. These are NOT the upstream providers.
//
// What they are: small gRPC providers (pulumirpc.ResourceProvider) implementing exactly the
// resources togather-deploy declares, against the real Docker Engine (its HTTP API on the local
// unix socket; `docker build` for RemoteImage builds), crypto/rand and /bin/sh:
//
//	docker:index/network:Network          docker:index/volume:Volume
//	docker:index/remoteImage:RemoteImage  docker:index/container:Container
//	random:index/randomPassword:RandomPassword
//	command:local:Command
//
// Semantics follow the upstream providers (ForceNew attributes, defaults, delete behaviour); each
// rule cites the upstream behaviour it mirrors. Inputs a stand-in does not implement are refused
// by Check with a failure naming the property, never silently ignored.
//
// How to tell a stand-in from the real plugin: GetPluginInfo must report the SDK's required
// version (5.2.0 / 4.21.4 / 1.2.1) or the engine will not pick the plugin, so the version does not
// tell. Instead: `pulumi-resource-docker --version` prints "5.2.0 togather-standin", and GetSchema
// returns a schema whose "description" starts with "togather-standin" (the upstream schema is a
// full package schema with resources; ours lists none).
//
// Build and install into a PULUMI_HOME (the engine picks plugins by directory name):
//
//	cd engine/standin
//	go build -trimpath -o "$PULUMI_HOME/plugins/resource-docker-v5.2.0/" ./cmd/pulumi-resource-docker
//	go build -trimpath -o "$PULUMI_HOME/plugins/resource-random-v4.21.4/" ./cmd/pulumi-resource-random
//	go build -trimpath -o "$PULUMI_HOME/plugins/resource-command-v1.2.1/" ./cmd/pulumi-resource-command
//
// Contract shared by every resource here:
//   - Check and Diff are pure: no Docker calls, no disk, no network (preview runs them).
//   - Create with preview=true returns the inputs plus unknown computed outputs and touches nothing.
//   - Create/Update leave nothing half-made that a retry would trip over, or fail naming the
//     object and the fix (e.g. a container name already taken).
//   - Delete never removes a volume's data: containers are removed without their volumes, and
//     RemoteImage with keepLocally keeps the image.
package standin
