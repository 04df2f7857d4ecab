package standin

import (
	"context"
	"strings"
	"testing"
)

func TestGenerateHonoursSetsAndMins(t *testing.T) {
	pw, err := Generate(map[string]any{"length": 32.0, "special": false, "minNumeric": 5.0})
	if err != nil {
		t.Fatal(err)
	}
	if len(pw) != 32 || strings.ContainsAny(pw, defaultSpecial) {
		t.Errorf("length/special: %q", pw)
	}
	digits := 0
	for _, c := range pw {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	if digits < 5 {
		t.Errorf("minNumeric 5, got %d digits in %q", digits, pw)
	}
	other, _ := Generate(map[string]any{"length": 32.0, "special": false})
	if other == pw {
		t.Error("two passwords are equal")
	}
}

func TestPasswordResultIsSecretAndCheckRefusesShortLength(t *testing.T) {
	in, failures := RandomPassword{}.Check(props(map[string]any{"length": 16.0}))
	if len(failures) != 0 {
		t.Fatal(failures)
	}
	id, outs, err := RandomPassword{}.Create(context.Background(), "pw", in, false)
	if err != nil || id != "none" || !outs["result"].IsSecret() {
		t.Fatalf("id %q err %v secret %v", id, err, outs["result"].IsSecret())
	}
	_, failures = RandomPassword{}.Check(props(map[string]any{"length": 2.0, "minUpper": 2.0, "minLower": 2.0}))
	if len(failures) != 1 || failures[0].Property != "length" {
		t.Errorf("length < sum of mins: %v", failures)
	}
}
