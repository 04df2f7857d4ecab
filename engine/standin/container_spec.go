package standin

import "sort"

// ContainerCreate is the body of POST /containers/create built from the plain inputs, plus the
// extra networks to connect before start. Pure, so it is unit-tested without an engine.
type ContainerCreate struct {
	Body  map[string]any
	Extra []map[string]any // networksAdvanced entries after the first
}

const mb = 1024 * 1024

// BuildContainerCreate maps pulumi-docker Container inputs onto the Engine API, as the upstream
// provider's resourceDockerContainerCreate maps its schema onto container.Config/HostConfig.
func BuildContainerCreate(in map[string]any) (*ContainerCreate, error) {
	cfg := map[string]any{"Image": Str(in, "image"), "Labels": labels(in)}
	host := map[string]any{}
	set := func(m map[string]any, k string, v any, ok bool) {
		if ok {
			m[k] = v
		}
	}
	envs := Strings(in, "envs")
	sort.Strings(envs) // upstream: env is a set
	set(cfg, "Env", envs, len(envs) > 0)
	set(cfg, "Cmd", Strings(in, "command"), len(Strings(in, "command")) > 0)
	set(cfg, "Entrypoint", Strings(in, "entrypoints"), len(Strings(in, "entrypoints")) > 0)
	set(cfg, "User", Str(in, "user"), Str(in, "user") != "")
	set(cfg, "WorkingDir", Str(in, "workingDir"), Str(in, "workingDir") != "")
	set(cfg, "Hostname", Str(in, "hostname"), Str(in, "hostname") != "")
	set(cfg, "Domainname", Str(in, "domainname"), Str(in, "domainname") != "")
	set(cfg, "StopSignal", Str(in, "stopSignal"), Str(in, "stopSignal") != "")
	set(cfg, "StopTimeout", Int(in, "stopTimeout"), Int(in, "stopTimeout") > 0)
	set(cfg, "Tty", true, Bool(in, "tty", false))
	set(cfg, "OpenStdin", true, Bool(in, "stdinOpen", false))

	hc, err := healthcheck(Obj(in, "healthcheck"))
	if err != nil {
		return nil, err
	}
	set(cfg, "Healthcheck", hc, hc != nil)

	exposed, bindings := ports(in)
	set(cfg, "ExposedPorts", exposed, len(exposed) > 0)
	set(host, "PortBindings", bindings, len(bindings) > 0)
	set(host, "PublishAllPorts", true, Bool(in, "publishAllPorts", false))

	mounts, err := mountList(in)
	if err != nil {
		return nil, err
	}
	set(host, "Mounts", mounts, len(mounts) > 0)
	binds, from := volumeBinds(in)
	set(host, "Binds", binds, len(binds) > 0)
	set(host, "VolumesFrom", from, len(from) > 0)
	set(host, "Tmpfs", StrMap(in, "tmpfs"), len(StrMap(in, "tmpfs")) > 0)

	// upstream: restart + max_retry_count -> RestartPolicy; memory/memory_swap/shm_size in MB.
	host["RestartPolicy"] = map[string]any{"Name": Str(in, "restart"), "MaximumRetryCount": Int(in, "maxRetryCount")}
	set(host, "Memory", Int(in, "memory")*mb, Int(in, "memory") > 0)
	set(host, "MemorySwap", Int(in, "memorySwap")*mb, Int(in, "memorySwap") > 0)
	set(host, "MemorySwap", -1, Int(in, "memorySwap") == -1)
	set(host, "ShmSize", Int(in, "shmSize")*mb, Int(in, "shmSize") > 0)
	set(host, "CpuShares", Int(in, "cpuShares"), Int(in, "cpuShares") > 0)
	set(host, "CpusetCpus", Str(in, "cpuSet"), Str(in, "cpuSet") != "")
	set(host, "ReadonlyRootfs", true, Bool(in, "readOnly", false))
	set(host, "Privileged", true, Bool(in, "privileged", false))
	set(host, "Init", true, Bool(in, "init", false))
	set(host, "SecurityOpt", Strings(in, "securityOpts"), len(Strings(in, "securityOpts")) > 0)
	set(host, "Sysctls", StrMap(in, "sysctls"), len(StrMap(in, "sysctls")) > 0)
	set(host, "Dns", Strings(in, "dns"), len(Strings(in, "dns")) > 0)
	set(host, "DnsOptions", Strings(in, "dnsOpts"), len(Strings(in, "dnsOpts")) > 0)
	set(host, "DnsSearch", Strings(in, "dnsSearches"), len(Strings(in, "dnsSearches")) > 0)
	set(host, "GroupAdd", Strings(in, "groupAdds"), len(Strings(in, "groupAdds")) > 0)
	if caps := Obj(in, "capabilities"); caps != nil {
		set(host, "CapAdd", Strings(caps, "adds"), len(Strings(caps, "adds")) > 0)
		set(host, "CapDrop", Strings(caps, "drops"), len(Strings(caps, "drops")) > 0)
	}
	var hosts []string
	for _, h := range List(in, "hosts") {
		if hm, ok := h.(map[string]any); ok {
			hosts = append(hosts, Str(hm, "host")+":"+Str(hm, "ip"))
		}
	}
	set(host, "ExtraHosts", hosts, len(hosts) > 0)
	if d := Str(in, "logDriver"); d != "" {
		host["LogConfig"] = map[string]any{"Type": d, "Config": StrMap(in, "logOpts")}
	}

	body := map[string]any{}
	for k, v := range cfg {
		body[k] = v
	}
	body["HostConfig"] = host
	nets := List(in, "networksAdvanced")
	// upstream: network_mode defaults to "bridge"; with networks_advanced the container is created
	// on the first advanced network (so it is never also on the default bridge).
	mode := Str(in, "networkMode")
	var extra []map[string]any
	if len(nets) > 0 {
		first, _ := nets[0].(map[string]any)
		if mode == "" || mode == "bridge" {
			mode = Str(first, "name")
		}
		body["NetworkingConfig"] = map[string]any{"EndpointsConfig": map[string]any{Str(first, "name"): endpoint(first)}}
		for _, n := range nets[1:] {
			if nm, ok := n.(map[string]any); ok {
				extra = append(extra, nm)
			}
		}
	}
	set(host, "NetworkMode", mode, mode != "")
	return &ContainerCreate{Body: body, Extra: extra}, nil
}
