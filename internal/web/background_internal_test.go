package web

import (
	"context"
	"testing"
	"time"
)

// testBackground is a background closed when the test ends.
func testBackground(t *testing.T) *background {
	b := newBackground()
	t.Cleanup(b.close)
	return b
}

// TestBackgroundClose: close cancels the running work's context and waits
// for it to return; nothing starts afterwards.
func TestBackgroundClose(t *testing.T) {
	b := newBackground()
	running, returned := make(chan struct{}), make(chan struct{})
	if !b.start(func(ctx context.Context) {
		close(running)
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // close must wait for this
		close(returned)
	}) {
		t.Fatal("start refused before close")
	}
	<-running
	b.close()
	select {
	case <-returned:
	default:
		t.Fatal("close returned before the work did")
	}
	if b.start(func(context.Context) { t.Error("work started after close") }) {
		t.Error("start accepted after close")
	}
	// startThen: after close, only the undo runs, at once.
	undone := false
	b.startThen(func(context.Context) { t.Error("work started after close") }, func() { undone = true })
	if !undone {
		t.Error("startThen after close did not run done")
	}
}

// TestBackgroundStartThen: done runs after the work, in its goroutine.
func TestBackgroundStartThen(t *testing.T) {
	b := testBackground(t)
	var order []string
	finished := make(chan struct{})
	b.startThen(func(context.Context) { order = append(order, "work") },
		func() { order = append(order, "done"); close(finished) })
	<-finished
	if len(order) != 2 || order[0] != "work" || order[1] != "done" {
		t.Errorf("ran %v, want work then done", order)
	}
}
