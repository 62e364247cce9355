package applications

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/secretbox"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// RAPI is what creating a VM needs of a cluster's RAPI (*rapi.Client).
type RAPI interface {
	Instance(ctx context.Context, name string) (*rapi.Instance, error)
	JobsBulk(ctx context.Context) ([]rapi.Job, error)
	Job(ctx context.Context, id rapi.JobID) (*rapi.Job, error)
	CreateInstance(ctx context.Context, r rapi.InstanceCreate) (rapi.JobID, error)
	WaitJobProgress(ctx context.Context, id rapi.JobID, onLog func(rapi.LogEntry)) (*rapi.Job, error)
	OSes(ctx context.Context) ([]string, error)
}

// ClientSource gives the RAPI client of a registered cluster.
type ClientSource interface {
	Client(c *store.Cluster) (RAPI, error)
}

// Clients builds and keeps one RAPI client per cluster from the cluster
// rows (opening the sealed RAPI passwords), and builds a new one when a
// row's connection settings change. It is safe for concurrent use.
type Clients struct {
	passwords       *secretbox.Box
	connectTimeout  time.Duration
	responseTimeout time.Duration

	mu      sync.Mutex
	clients map[int64]*keyedClient
}

type keyedClient struct {
	key    string
	client *rapi.Client
}

// NewClients returns a ClientSource opening RAPI passwords with passwords;
// zero timeouts take the rapi package's defaults.
func NewClients(passwords *secretbox.Box, connectTimeout, responseTimeout time.Duration) *Clients {
	return &Clients{passwords: passwords, connectTimeout: connectTimeout, responseTimeout: responseTimeout,
		clients: map[int64]*keyedClient{}}
}

// Client returns the client of c.
func (cs *Clients) Client(c *store.Cluster) (RAPI, error) {
	client, err := cs.RAPI(c)
	if err != nil {
		return nil, err
	}
	return client, nil
}

// RAPI returns the client of c with its whole API (for the instance
// actions, which need more of it than creating a VM does).
func (cs *Clients) RAPI(c *store.Cluster) (*rapi.Client, error) {
	key := fmt.Sprintf("%s\x00%d\x00%s\x00%x\x00%s\x00%s", c.Hostname, c.Port, c.RAPIUsername, c.RAPIPassword,
		c.TLSFingerprint, c.TLSCAPEM)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if kc := cs.clients[c.ID]; kc != nil && kc.key == key {
		return kc.client, nil
	}
	password := ""
	if len(c.RAPIPassword) > 0 {
		if cs.passwords == nil {
			return nil, fmt.Errorf("applications: cluster %s: no key to open its RAPI password", c.Slug)
		}
		pw, err := cs.passwords.Open(c.RAPIPassword)
		if err != nil {
			return nil, fmt.Errorf("applications: cluster %s: open the RAPI password: %w", c.Slug, err)
		}
		password = pw
	}
	cfg := rapi.Config{Host: c.Hostname, Port: c.Port, Username: c.RAPIUsername, Password: password,
		ConnectTimeout: cs.connectTimeout, ResponseTimeout: cs.responseTimeout}
	if c.TLSFingerprint != "" {
		cfg.TLS.PinnedSHA256 = c.TLSFingerprint
	} else if c.TLSCAPEM != "" {
		cfg.TLS.CAPEM = []byte(c.TLSCAPEM)
	}
	client, err := rapi.New(cfg)
	if err != nil {
		msg := err.Error()
		if password != "" {
			msg = strings.ReplaceAll(msg, password, "***")
		}
		return nil, fmt.Errorf("applications: cluster %s: %s", c.Slug, msg)
	}
	if old := cs.clients[c.ID]; old != nil {
		old.client.Close()
	}
	cs.clients[c.ID] = &keyedClient{key: key, client: client}
	return client, nil
}

// Close releases the clients' idle connections.
func (cs *Clients) Close() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for id, kc := range cs.clients {
		kc.client.Close()
		delete(cs.clients, id)
	}
}
