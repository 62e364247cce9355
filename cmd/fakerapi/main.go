// Command fakerapi runs one or several fake Ganeti RAPI clusters (package
// rapifake) over HTTPS, for demos, load tests and fault injection.
//
// Each cluster listens on its own port: either the addresses given with
// -listen (comma-separated), or consecutive ports after the last one. It
// prints every cluster's URL and certificate fingerprint, serves an
// optional plain-HTTP admin API (-admin) to inject faults at runtime, and
// stops on SIGINT or SIGTERM.
//
//	fakerapi -clusters 5 -instances 2000 -listen 127.0.0.1:5080 -owners alice,bob -admin 127.0.0.1:5079
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fakerapi:", err)
		os.Exit(1)
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseUsers parses "name:password:write,name:password[:read]".
func parseUsers(s string) ([]rapifake.User, error) {
	var users []rapifake.User
	for _, spec := range splitList(s) {
		parts := strings.Split(spec, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
			return nil, fmt.Errorf("invalid user %q (want name:password[:write|read])", spec)
		}
		u := rapifake.User{Name: parts[0], Password: parts[1]}
		if len(parts) == 3 {
			switch parts[2] {
			case "write":
				u.Write = true
			case "read":
			default:
				return nil, fmt.Errorf("invalid access %q for user %s", parts[2], parts[0])
			}
		}
		users = append(users, u)
	}
	return users, nil
}

// addresses returns n listen addresses: the given ones, then consecutive
// ports after the last (port 0 stays 0, i.e. a free port each).
func addresses(list []string, n int) ([]string, error) {
	if len(list) == 0 {
		list = []string{"127.0.0.1:5080"}
	}
	out := make([]string, 0, n)
	for i := range n {
		if i < len(list) {
			out = append(out, list[i])
			continue
		}
		host, port, err := net.SplitHostPort(list[len(list)-1])
		if err != nil {
			return nil, fmt.Errorf("invalid listen address %q: %w", list[len(list)-1], err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("invalid port in %q", list[len(list)-1])
		}
		if p != 0 {
			p += i - len(list) + 1
		}
		out = append(out, net.JoinHostPort(host, strconv.Itoa(p)))
	}
	return out, nil
}

func run(args []string) error {
	fs := flag.NewFlagSet("fakerapi", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:5080", "listen address(es), comma-separated; missing ones use consecutive ports")
	nClusters := fs.Int("clusters", 1, "number of clusters")
	nameFmt := fs.String("name", "cluster%d.example.org", "cluster name pattern (%d = 1-based index)")
	instances := fs.Int("instances", 100, "instances per cluster")
	nodes := fs.Int("nodes", 3, "nodes per cluster")
	groups := fs.Int("groups", 1, "node groups per cluster")
	networks := fs.Int("networks", 2, "networks per cluster (-1 for none)")
	owners := fs.String("owners", "alice,bob,carol", "user names for <prefix>:user:<name> tags")
	ownerGroups := fs.String("owner-groups", "ops,dev", "group names for <prefix>:group:<name> tags")
	prefix := fs.String("tag-prefix", rapifake.DefaultTagPrefix, "ownership tag prefix")
	seed := fs.Uint64("seed", 1, "random seed (cluster i uses seed+i)")
	hv := fs.String("hypervisor", "fake", "hypervisor: fake or kvm")
	jobDelay := fs.Duration("job-delay", rapifake.DefaultJobDelay, "job duration (0 = instant)")
	latency := fs.Duration("latency", 0, "latency added to every answer")
	users := fs.String("users", "admin:admin:write,viewer:viewer:read", "RAPI users name:password[:write|read], comma-separated")
	keepAlive := fs.Bool("keepalive", false, "allow keep-alive (the real daemon sends Connection: close)")
	admin := fs.String("admin", "127.0.0.1:5079", "plain-HTTP admin API address (empty to disable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *nClusters < 1 {
		return errors.New("need at least one cluster")
	}
	userList, err := parseUsers(*users)
	if err != nil {
		return err
	}
	addrs, err := addresses(splitList(*listen), *nClusters)
	if err != nil {
		return err
	}
	delay := *jobDelay
	if delay <= 0 {
		delay = rapifake.NoJobDelay
	}
	var clusters []*rapifake.Cluster
	defer func() {
		for _, c := range clusters {
			_ = c.Close()
		}
	}()
	for i := range *nClusters {
		name := *nameFmt
		if strings.Contains(name, "%d") {
			name = fmt.Sprintf(name, i+1)
		}
		c, err := rapifake.NewCluster(rapifake.Options{
			Name: name, Nodes: *nodes, Groups: *groups, Networks: *networks, Instances: *instances,
			TagPrefix: *prefix, Owners: splitList(*owners), OwnerGroups: splitList(*ownerGroups),
			Seed: *seed + uint64(i), Hypervisor: *hv, Users: userList, JobDelay: delay,
			KeepAlive: *keepAlive, Addr: addrs[i],
		})
		if err != nil {
			return fmt.Errorf("cluster %s: %w", name, err)
		}
		clusters = append(clusters, c)
		if *latency > 0 {
			c.SetLatency(*latency)
		}
		url, err := c.Start()
		if err != nil {
			return fmt.Errorf("cluster %s: %w", name, err)
		}
		fmt.Printf("%s\t%s\t%d instances\tsha256 %s\n", name, url, c.InstanceCount(), c.Fingerprint())
	}
	var adminSrv *http.Server
	if *admin != "" {
		ln, err := net.Listen("tcp", *admin)
		if err != nil {
			return fmt.Errorf("admin listener: %w", err)
		}
		adminSrv = &http.Server{Handler: rapifake.AdminHandler(clusters), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = adminSrv.Serve(ln) }()
		fmt.Printf("admin\thttp://%s\t(GET /clusters, POST /faults, POST /rotate-cert, GET /counts)\n", ln.Addr())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	fmt.Println("stopping")
	if adminSrv != nil {
		shutCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = adminSrv.Shutdown(shutCtx)
	}
	return nil
}
