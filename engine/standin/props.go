package standin

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Plain unwraps secrets (and known outputs) recursively into Go values: maps, slices, strings,
// float64s, bools, nil. Unknowns become nil; callers that act (Create/Update) never see them.
func Plain(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return Plain(v.SecretValue().Element)
	case v.IsOutput():
		if !v.OutputValue().Known {
			return nil
		}
		return Plain(v.OutputValue().Element)
	case v.IsComputed():
		return nil
	case v.IsArray():
		out := make([]any, 0, len(v.ArrayValue()))
		for _, e := range v.ArrayValue() {
			out = append(out, Plain(e))
		}
		return out
	case v.IsObject():
		return PlainMap(v.ObjectValue())
	default:
		return v.V
	}
}

// PlainMap is Plain for a whole property map.
func PlainMap(m resource.PropertyMap) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[string(k)] = Plain(v)
	}
	return out
}

// Str, Bool, Int, List, Obj and StrMap read one plain value with a fallback.
func Str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func Bool(m map[string]any, k string, def bool) bool {
	if b, ok := m[k].(bool); ok {
		return b
	}
	return def
}

func Int(m map[string]any, k string) int64 {
	f, _ := m[k].(float64)
	return int64(f)
}

func List(m map[string]any, k string) []any {
	l, _ := m[k].([]any)
	return l
}

func Obj(m map[string]any, k string) map[string]any {
	if o, ok := m[k].(map[string]any); ok {
		return o
	}
	if l := List(m, k); len(l) > 0 { // some SDKs send a max-1 block as a one-element list
		o, _ := l[0].(map[string]any)
		return o
	}
	return nil
}

func Strings(m map[string]any, k string) []string {
	var out []string
	for _, e := range List(m, k) {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func StrMap(m map[string]any, k string) map[string]string {
	o, _ := m[k].(map[string]any)
	if o == nil {
		return nil
	}
	out := make(map[string]string, len(o))
	for key, v := range o {
		out[key] = fmt.Sprint(v)
	}
	return out
}

// Defaults sets each missing (or null) key of m; the real providers' schema defaults, applied
// in Check so that state and later diffs carry them as upstream state does.
func Defaults(m resource.PropertyMap, defaults map[string]any) resource.PropertyMap {
	out := m.Copy()
	for k, v := range defaults {
		key := resource.PropertyKey(k)
		if cur, ok := out[key]; !ok || cur.IsNull() {
			out[key] = resource.NewPropertyValue(v)
		}
	}
	return out
}

// Unsupported names each non-null input that this stand-in does not implement, so a program
// relying on one fails at preview instead of deploying something different from upstream.
func Unsupported(m resource.PropertyMap, supported map[string]bool) []*pulumirpc.CheckFailure {
	var out []*pulumirpc.CheckFailure
	for k, v := range m {
		if v.IsNull() || supported[string(k)] {
			continue
		}
		out = append(out, &pulumirpc.CheckFailure{Property: string(k), Reason: fmt.Sprintf(
			"%q is not implemented by this togather-standin plugin (see engine/standin/doc.go); "+
				"remove it or implement it there", string(k))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Property < out[j].Property })
	return out
}

// changed reports whether an input differs. Secret-ness alone is no change; an unknown new value
// always is one (the engine shows it as "may change", as upstream bridged providers do).
func changed(old, new resource.PropertyValue) bool {
	if new.ContainsUnknowns() {
		return true
	}
	return !reflect.DeepEqual(normal(Plain(old)), normal(Plain(new)))
}

// normal maps "absent" shapes onto one: nil, empty list and empty map all mean "not set".
func normal(v any) any {
	switch t := v.(type) {
	case []any:
		if len(t) == 0 {
			return nil
		}
		for i := range t {
			t[i] = normal(t[i])
		}
	case map[string]any:
		if len(t) == 0 {
			return nil
		}
		for k := range t {
			if t[k] = normal(t[k]); t[k] == nil {
				delete(t, k)
			}
		}
	}
	return v
}

// DiffInputs compares inputs key by key; replace(key) says whether a change to key forces a
// replacement (upstream ForceNew / RequiresReplace). Keys in outputOnly are never compared.
func DiffInputs(olds, news resource.PropertyMap, replace func(string) bool, outputOnly ...string) *pulumirpc.DiffResponse {
	skip := map[string]bool{}
	for _, k := range outputOnly {
		skip[k] = true
	}
	keys := map[resource.PropertyKey]bool{}
	for k := range olds {
		keys[k] = true
	}
	for k := range news {
		keys[k] = true
	}
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true,
		DetailedDiff: map[string]*pulumirpc.PropertyDiff{}}
	for k := range keys {
		if skip[string(k)] || !changed(olds[k], news[k]) {
			continue
		}
		kind := pulumirpc.PropertyDiff_UPDATE
		if replace(string(k)) {
			kind = pulumirpc.PropertyDiff_UPDATE_REPLACE
			resp.Replaces = append(resp.Replaces, string(k))
		}
		if olds[k].IsNull() {
			kind = pulumirpc.PropertyDiff_ADD
			if replace(string(k)) {
				kind = pulumirpc.PropertyDiff_ADD_REPLACE
			}
		}
		resp.Diffs = append(resp.Diffs, string(k))
		resp.DetailedDiff[string(k)] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	sort.Strings(resp.Replaces)
	sort.Strings(resp.Diffs)
	return resp
}

// WithOutputs returns the inputs (secret-ness kept) plus computed outputs.
func WithOutputs(inputs resource.PropertyMap, outs map[string]resource.PropertyValue) resource.PropertyMap {
	m := inputs.Copy()
	for k, v := range outs {
		m[resource.PropertyKey(k)] = v
	}
	return m
}

// Unknown is a computed output during preview.
func Unknown() resource.PropertyValue {
	return resource.MakeComputed(resource.NewStringProperty(""))
}
