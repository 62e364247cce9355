package demo_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/demo"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/secretbox"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/store/storetest"
	"github.com/ganetimgr/ganetimgr/internal/tags"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// TestDemoClusterIsAWorkingRegisteredCluster starts the demo twice, reads it
// through the real RAPI client with the recorded pin and credentials, and
// removes it.
func TestDemoClusterIsAWorkingRegisteredCluster(t *testing.T) {
	ctx := context.Background()
	st := store.New(pgtest.NewPool(t))
	box, err := secretbox.New(bytes.Repeat([]byte{1}, 32), "rapi-password")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := demo.Options{Owner: "admin", TagPrefix: "ganetimgr", Instances: 12}

	first, err := demo.Start(ctx, st, box, opts, log)
	if err != nil {
		t.Fatal(err)
	}
	firstPort := first.Row().Port
	first.Close()
	d, err := demo.Start(ctx, st, box, opts, log)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	// An empty catalogue gets one image, once (the demo can be applied for).
	if ims, err := st.OSImages(ctx, true); err != nil || len(ims) != 1 || ims[0].Provider != "debootstrap+default" {
		t.Fatalf("catalogue after two starts: %v %v", ims, err)
	}
	all, err := st.Clusters(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("clusters after two starts: %d %v", len(all), err)
	}
	row := all[0]
	if !row.Demo || row.Slug != demo.Slug || row.ID != d.Row().ID || row.TLSFingerprint == "" {
		t.Errorf("demo row: %+v", row)
	}
	if row.Port == firstPort {
		t.Logf("same port twice (possible, unlikely): %d", row.Port)
	}
	password, err := box.Open(row.RAPIPassword)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(row.RAPIPassword, []byte(password)) {
		t.Error("RAPI password stored in clear")
	}
	c, err := rapi.New(rapi.Config{Host: row.Hostname, Port: row.Port, Username: row.RAPIUsername, Password: password,
		TLS: rapi.TLSConfig{PinnedSHA256: row.TLSFingerprint}, ResponseTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	info, err := c.Info(ctx)
	if err != nil || !strings.Contains(info.Name, "demo") {
		t.Fatalf("info: %+v %v", info, err)
	}
	insts, err := c.InstancesBulk(ctx)
	if err != nil || len(insts) != 12 {
		t.Fatalf("instances: %d %v", len(insts), err)
	}
	codec, err := tags.New("ganetimgr")
	if err != nil {
		t.Fatal(err)
	}
	owned := 0
	for _, in := range insts {
		for _, u := range codec.Parse(in.Tags).Users {
			if u == "admin" {
				owned++
			}
		}
	}
	if owned == 0 {
		t.Error("no demo instance is owned by the admin")
	}

	// A wrong pin is refused: the row's pin is what protects the connection.
	bad, _ := rapi.New(rapi.Config{Host: row.Hostname, Port: row.Port, Username: row.RAPIUsername, Password: password,
		TLS: rapi.TLSConfig{PinnedSHA256: strings.Repeat("AB:", 31) + "AB"}})
	if _, err := bad.Info(ctx); !errors.Is(err, rapi.ErrPinMismatch) {
		t.Errorf("wrong pin: %v", err)
	}

	if err := demo.Remove(ctx, st, log); err != nil {
		t.Fatal(err)
	}
	if all, _ := st.Clusters(ctx); len(all) != 0 {
		t.Errorf("demo row left after Remove: %d", len(all))
	}
}
