package standin

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// RandomPassword is random:index/randomPassword:RandomPassword. Mirrors
// hashicorp/terraform-provider-random resource_password.go / string.go: every argument
// RequiresReplace (so a new password only on replace); defaults special/upper/lower/numeric true,
// min* 0; the min counts are drawn first, the rest from the whole enabled set, then shuffled;
// crypto/rand; id "none"; result is a secret. bcryptHash is not produced (not used here).
type RandomPassword struct{}

const defaultSpecial = "!@#$%&*()-_=+[]{}<>:?" // upstream's default special set

var passwordSupported = setOf("length", "special", "upper", "lower", "numeric", "number",
	"minSpecial", "minUpper", "minLower", "minNumeric", "overrideSpecial", "keepers")

func (RandomPassword) Check(news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	out := Defaults(news, map[string]any{"special": true, "upper": true, "lower": true, "numeric": true,
		"minSpecial": 0.0, "minUpper": 0.0, "minLower": 0.0, "minNumeric": 0.0})
	failures := Unsupported(out, passwordSupported)
	if out["length"].ContainsUnknowns() {
		return out, failures
	}
	in := PlainMap(out)
	length := Int(in, "length")
	if length < 1 {
		failures = append(failures, &pulumirpc.CheckFailure{Property: "length",
			Reason: fmt.Sprintf("length = %d must be at least 1", length)})
	}
	if mins := Int(in, "minSpecial") + Int(in, "minUpper") + Int(in, "minLower") + Int(in, "minNumeric"); mins > length {
		failures = append(failures, &pulumirpc.CheckFailure{Property: "length",
			Reason: fmt.Sprintf("length = %d is shorter than the sum of the min* counts (%d): raise length", length, mins)})
	}
	return out, failures
}

func (RandomPassword) Diff(olds, news resource.PropertyMap) *pulumirpc.DiffResponse {
	return DiffInputs(olds, news, func(string) bool { return true }, "result", "bcryptHash")
}

// Generate builds the password from plain inputs (exported for tests).
func Generate(in map[string]any) (string, error) {
	sets := []struct {
		on    bool
		chars string
		min   int64
	}{
		{Bool(in, "upper", true), "ABCDEFGHIJKLMNOPQRSTUVWXYZ", Int(in, "minUpper")},
		{Bool(in, "lower", true), "abcdefghijklmnopqrstuvwxyz", Int(in, "minLower")},
		{Bool(in, "numeric", true) && Bool(in, "number", true), "0123456789", Int(in, "minNumeric")},
		{Bool(in, "special", true), defaultSpecial, Int(in, "minSpecial")},
	}
	if o, ok := in["overrideSpecial"].(string); ok {
		sets[3].chars = o
	}
	var all string
	var out []byte
	for _, s := range sets {
		if !s.on {
			continue
		}
		all += s.chars
		for i := int64(0); i < s.min; i++ {
			c, err := pick(s.chars)
			if err != nil {
				return "", err
			}
			out = append(out, c)
		}
	}
	if all == "" {
		return "", fmt.Errorf("no character set enabled: set one of upper, lower, numeric, special to true")
	}
	for int64(len(out)) < Int(in, "length") {
		c, err := pick(all)
		if err != nil {
			return "", err
		}
		out = append(out, c)
	}
	for i := len(out) - 1; i > 0; i-- { // Fisher-Yates with crypto/rand
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}

func pick(chars string) (byte, error) {
	if chars == "" {
		return 0, fmt.Errorf("empty character set")
	}
	n, err := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
	if err != nil {
		return 0, err
	}
	return chars[n.Int64()], nil
}

func (p RandomPassword) Create(_ context.Context, _ string, news resource.PropertyMap, preview bool) (string, resource.PropertyMap, error) {
	if preview {
		return "", WithOutputs(news, map[string]resource.PropertyValue{"result": resource.MakeSecret(Unknown())}), nil
	}
	pw, err := Generate(PlainMap(news))
	if err != nil {
		return "", nil, err
	}
	return "none", WithOutputs(news, map[string]resource.PropertyValue{
		"result": resource.MakeSecret(resource.NewStringProperty(pw))}), nil
}

func (RandomPassword) Read(_ context.Context, id string, olds resource.PropertyMap) (string, resource.PropertyMap, error) {
	return id, olds, nil
}

// Update only happens for a change that needs no replacement (none upstream); keep the result.
func (RandomPassword) Update(_ context.Context, _ string, olds, news resource.PropertyMap, _ bool) (resource.PropertyMap, error) {
	return WithOutputs(news, map[string]resource.PropertyValue{"result": olds["result"]}), nil
}

func (RandomPassword) Delete(context.Context, string, resource.PropertyMap) error { return nil }
