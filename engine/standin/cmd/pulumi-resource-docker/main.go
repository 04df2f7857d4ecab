// Command pulumi-resource-docker is the togather-standin for pulumi-docker 5.2.0 (see ../../doc.go).
package main

import standin "togather.invalid/engine/standin"

func main() {
	dock := standin.NewDocker
	standin.Main(&standin.Server{Package: "docker", Version: "5.2.0", Resources: map[string]standin.Resource{
		"docker:index/network:Network":         standin.Network{Docker: dock},
		"docker:index/volume:Volume":           standin.Volume{Docker: dock},
		"docker:index/remoteImage:RemoteImage": standin.RemoteImage{Docker: dock},
		"docker:index/container:Container":     standin.Container{Docker: dock},
	}})
}
