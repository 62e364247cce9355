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
}
