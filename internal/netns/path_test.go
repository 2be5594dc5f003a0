package netns

import (
	"errors"
	"os"
	"testing"
)

func TestPath(t *testing.T) {
	if p, err := Path("blue"); err != nil || p != Dir+"/blue" {
		t.Errorf(`Path("blue") = %q, %v`, p, err)
	}
	for _, bad := range []string{"", ".", "..", "a/b", "../etc"} {
		if p, err := Path(bad); err == nil {
			t.Errorf("Path(%q) = %q, want an error", bad, p)
		}
	}
}

func TestDo(t *testing.T) {
	want := errors.New("fn ran")
	if err := Do("", func() error { return want }); err != want {
		t.Errorf("Do without a namespace: %v, want fn's error", err)
	}
	ran := false
	err := Do("ctq-netns-test-missing", func() error { ran = true; return nil })
	if err == nil || !errors.Is(err, os.ErrNotExist) || ran {
		t.Errorf("Do in a missing namespace: %v (fn ran: %v), want ErrNotExist without running fn", err, ran)
	}
	if err := Do("a/b", func() error { ran = true; return nil }); err == nil || ran {
		t.Errorf("Do with a bad name: %v (fn ran: %v)", err, ran)
	}
}
