// Command pulumi-resource-command is the togather-standin for pulumi-command 1.2.1 (see ../../doc.go).
package main

import standin "togather.invalid/engine/standin"

func main() {
	standin.Main(&standin.Server{Package: "command", Version: "1.2.1", Resources: map[string]standin.Resource{
		"command:local:Command": standin.LocalCommand{},
	}})
}
