// Command pulumi-resource-random is the togather-standin for pulumi-random 4.21.4 (see ../../doc.go).
package main

import standin "togather.invalid/engine/standin"

func main() {
	standin.Main(&standin.Server{Package: "random", Version: "4.21.4", Resources: map[string]standin.Resource{
		"random:index/randomPassword:RandomPassword": standin.RandomPassword{},
	}})
}
