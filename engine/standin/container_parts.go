package standin

import (
	"fmt"
	"strings"
	"time"
)

// The parts of a container create body, one upstream block each (labels, networks_advanced,
// healthcheck, ports, mounts, volumes). Pure.

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
