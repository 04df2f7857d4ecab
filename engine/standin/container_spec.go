package standin

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

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

func labels(in map[string]any) map[string]string {
	out := map[string]string{}
	for _, l := range List(in, "labels") {
		if lm, ok := l.(map[string]any); ok {
			out[Str(lm, "label")] = Str(lm, "value")
		}
	}
	return out
}

func endpoint(n map[string]any) map[string]any {
	ep := map[string]any{}
	if a := Strings(n, "aliases"); len(a) > 0 {
		ep["Aliases"] = a
	}
	ipam := map[string]any{}
	if v := Str(n, "ipv4Address"); v != "" {
		ipam["IPv4Address"] = v
	}
	if v := Str(n, "ipv6Address"); v != "" {
		ipam["IPv6Address"] = v
	}
	if len(ipam) > 0 {
		ep["IPAMConfig"] = ipam
	}
	return ep
}

func healthcheck(h map[string]any) (map[string]any, error) {
	if h == nil {
		return nil, nil
	}
	out := map[string]any{"Test": Strings(h, "tests"), "Retries": Int(h, "retries")}
	for _, f := range [][2]string{{"interval", "Interval"}, {"timeout", "Timeout"},
		{"startPeriod", "StartPeriod"}, {"startInterval", "StartInterval"}} {
		s := Str(h, f[0])
		if s == "" {
			continue
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("healthcheck.%s = %q is not a duration >= 0 (e.g. \"5s\", \"500ms\")", f[0], s)
		}
		if d > 0 {
			out[f[1]] = d.Nanoseconds()
		}
	}
	return out, nil
}

func ports(in map[string]any) (map[string]any, map[string]any) {
	exposed, bindings := map[string]any{}, map[string]any{}
	for _, p := range List(in, "ports") {
		pm, ok := p.(map[string]any)
		if !ok {
			continue
		}
		proto := Str(pm, "protocol")
		if proto == "" {
			proto = "tcp"
		}
		key := fmt.Sprintf("%d/%s", Int(pm, "internal"), proto)
		exposed[key] = map[string]any{}
		b := map[string]any{"HostIp": Str(pm, "ip"), "HostPort": ""}
		if ext := Int(pm, "external"); ext > 0 {
			b["HostPort"] = fmt.Sprint(ext)
		}
		list, _ := bindings[key].([]any)
		bindings[key] = append(list, b)
	}
	return exposed, bindings
}

func mountList(in map[string]any) ([]any, error) {
	var out []any
	for _, m := range List(in, "mounts") {
		mm, ok := m.(map[string]any)
		if !ok {
			continue
		}
		t := Str(mm, "type")
		if t != "bind" && t != "volume" && t != "tmpfs" {
			return nil, fmt.Errorf("mounts: type %q for target %q must be bind, volume or tmpfs (as upstream)", t, Str(mm, "target"))
		}
		mount := map[string]any{"Type": t, "Target": Str(mm, "target"), "Source": Str(mm, "source"),
			"ReadOnly": Bool(mm, "readOnly", false)}
		if o := Obj(mm, "tmpfsOptions"); o != nil {
			mount["TmpfsOptions"] = map[string]any{"SizeBytes": Int(o, "sizeBytes"), "Mode": Int(o, "mode")}
		}
		if o := Obj(mm, "bindOptions"); o != nil && Str(o, "propagation") != "" {
			mount["BindOptions"] = map[string]any{"Propagation": Str(o, "propagation")}
		}
		if o := Obj(mm, "volumeOptions"); o != nil {
			mount["VolumeOptions"] = map[string]any{"NoCopy": Bool(o, "noCopy", false)}
		}
		out = append(out, mount)
	}
	return out, nil
}

func volumeBinds(in map[string]any) ([]string, []string) {
	var binds, from []string
	for _, v := range List(in, "volumes") {
		vm, ok := v.(map[string]any)
		if !ok {
			continue
		}
		if c := Str(vm, "fromContainer"); c != "" {
			from = append(from, c)
			continue
		}
		src := Str(vm, "hostPath")
		if src == "" {
			src = Str(vm, "volumeName")
		}
		b := strings.TrimPrefix(src+":"+Str(vm, "containerPath"), ":")
		if Bool(vm, "readOnly", false) {
			b += ":ro"
		}
		binds = append(binds, b)
	}
	return binds, from
}
