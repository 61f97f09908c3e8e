package devenv

import (
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestFindRootWalksUp(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "cmd", "demo")
	for _, d := range []string{filepath.Join(root, "config", "crd", "bases"), deep} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(deep)
	got, err := FindRoot("demo")
	if err != nil || got != root {
		t.Fatalf("FindRoot = %q, %v; want %q", got, err, root)
	}
	t.Chdir(t.TempDir())
	if _, err := FindRoot("demo"); err == nil {
		t.Fatal("found a root outside any checkout")
	}
}

func TestRandomHex(t *testing.T) {
	a, b := RandomHex(16), RandomHex(16)
	if len(a) != 32 || a == b {
		t.Fatalf("RandomHex: %q, %q", a, b)
	}
}

func TestShiftedClockStandsAtItsOffset(t *testing.T) {
	var c ShiftedClock
	c.SetOffset(-21 * 24 * time.Hour)
	before := time.Now()
	got := c.Now()
	if d := before.Sub(got); d < 21*24*time.Hour-time.Minute || d > 21*24*time.Hour+time.Minute {
		t.Fatalf("Now is %v before real time; want three weeks", d)
	}
	if s := c.Since(time.Now().Add(-21 * 24 * time.Hour)); s < -time.Minute || s > time.Minute {
		t.Fatalf("Since three weeks ago in real time = %v; want about 0 on the shifted clock", s)
	}
	if c.Offset() != -21*24*time.Hour {
		t.Fatalf("Offset = %v", c.Offset())
	}
}

func TestFreeAddrCanBeListenedOn(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("FreeAddr gave %s, which cannot be listened on: %v", addr, err)
	}
	_ = l.Close()
}

func TestSyncBuffer(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				_, _ = b.Write([]byte("x"))
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if n := len(b.String()); n != 400 {
		t.Fatalf("%d bytes written; want 400", n)
	}
	capped := SyncBuffer{Max: 4}
	for i := 0; i < 10; i++ {
		if n, err := capped.Write([]byte("ab")); n != 2 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if got := capped.String(); got != "ababab" {
		t.Fatalf("capped buffer holds %q; want writes up to the first past Max", got)
	}
}
