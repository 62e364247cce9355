package rapi

import (
	"context"
	"net/http"
	"net/url"
)

// listItem is an entry of a non-bulk list: {"id"|"name", "uri"}.
type listItem struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (l listItem) key() string {
	if l.ID != "" {
		return l.ID
	}
	return l.Name
}

// listNames reads a non-bulk list resource and returns the names.
func (c *Client) listNames(ctx context.Context, path string) ([]string, error) {
	var items []listItem
	if err := c.request(ctx, http.MethodGet, path, nil, nil, &items); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(items))
	for _, it := range items {
		names = append(names, it.key())
	}
	return names, nil
}

// Nodes returns the names of all nodes.
func (c *Client) Nodes(ctx context.Context) ([]string, error) {
	return c.listNames(ctx, "/2/nodes")
}

// NodesBulk returns all nodes with their details.
func (c *Client) NodesBulk(ctx context.Context) ([]Node, error) {
	var nodes []Node
	err := c.request(ctx, http.MethodGet, "/2/nodes", bulkQuery(), nil, &nodes)
	return nodes, err
}

// Node returns one node.
func (c *Client) Node(ctx context.Context, name string) (*Node, error) {
	if err := checkName("node", name); err != nil {
		return nil, err
	}
	var n Node
	if err := c.request(ctx, http.MethodGet, pathEscape("2", "nodes", name), nil, nil, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// NodeRole returns a node's role.
func (c *Client) NodeRole(ctx context.Context, name string) (NodeRole, error) {
	if err := checkName("node", name); err != nil {
		return "", err
	}
	var r string
	err := c.request(ctx, http.MethodGet, pathEscape("2", "nodes", name, "role"), nil, nil, &r)
	return NodeRole(r), err
}

// NodeRoleOptions are optional parameters of SetNodeRole.
type NodeRoleOptions struct {
	// Force the change (query force=1).
	Force bool
	// AutoPromote other nodes to master candidates as needed.
	AutoPromote bool
}

// SetNodeRole changes a node's role. Ganeti refuses RoleMaster here (that
// needs a master failover).
func (c *Client) SetNodeRole(ctx context.Context, name string, role NodeRole, opts NodeRoleOptions) (JobID, error) {
	if err := checkName("node", name); err != nil {
		return 0, err
	}
	if role == "" {
		return 0, invalidArg("empty node role")
	}
	var q url.Values
	q = flag(q, "force", opts.Force)
	q = flag(q, "auto-promote", opts.AutoPromote)
	// The body is a bare JSON string.
	return c.submit(ctx, http.MethodPut, pathEscape("2", "nodes", name, "role"), q, string(role))
}

// NodeTags returns a node's tags.
func (c *Client) NodeTags(ctx context.Context, name string) ([]string, error) {
	if err := checkName("node", name); err != nil {
		return nil, err
	}
	return c.getTags(ctx, pathEscape("2", "nodes", name, "tags"))
}

// AddNodeTags adds tags to a node.
func (c *Client) AddNodeTags(ctx context.Context, name string, tags []string) (JobID, error) {
	if err := checkName("node", name); err != nil {
		return 0, err
	}
	return c.changeTags(ctx, http.MethodPut, pathEscape("2", "nodes", name, "tags"), tags)
}

// DeleteNodeTags removes tags from a node.
func (c *Client) DeleteNodeTags(ctx context.Context, name string, tags []string) (JobID, error) {
	if err := checkName("node", name); err != nil {
		return 0, err
	}
	return c.changeTags(ctx, http.MethodDelete, pathEscape("2", "nodes", name, "tags"), tags)
}

// Groups returns the names of all node groups.
func (c *Client) Groups(ctx context.Context) ([]string, error) {
	return c.listNames(ctx, "/2/groups")
}

// GroupsBulk returns all node groups with their details.
func (c *Client) GroupsBulk(ctx context.Context) ([]Group, error) {
	var groups []Group
	err := c.request(ctx, http.MethodGet, "/2/groups", bulkQuery(), nil, &groups)
	return groups, err
}

// Group returns one node group.
func (c *Client) Group(ctx context.Context, name string) (*Group, error) {
	if err := checkName("group", name); err != nil {
		return nil, err
	}
	var g Group
	if err := c.request(ctx, http.MethodGet, pathEscape("2", "groups", name), nil, nil, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// GroupTags returns a node group's tags.
func (c *Client) GroupTags(ctx context.Context, name string) ([]string, error) {
	if err := checkName("group", name); err != nil {
		return nil, err
	}
	return c.getTags(ctx, pathEscape("2", "groups", name, "tags"))
}

// AddGroupTags adds tags to a node group (e.g. "locked" for maintenance).
func (c *Client) AddGroupTags(ctx context.Context, name string, tags []string) (JobID, error) {
	if err := checkName("group", name); err != nil {
		return 0, err
	}
	return c.changeTags(ctx, http.MethodPut, pathEscape("2", "groups", name, "tags"), tags)
}

// DeleteGroupTags removes tags from a node group.
func (c *Client) DeleteGroupTags(ctx context.Context, name string, tags []string) (JobID, error) {
	if err := checkName("group", name); err != nil {
		return 0, err
	}
	return c.changeTags(ctx, http.MethodDelete, pathEscape("2", "groups", name, "tags"), tags)
}

// Networks returns the names of all networks.
func (c *Client) Networks(ctx context.Context) ([]string, error) {
	return c.listNames(ctx, "/2/networks")
}

// NetworksBulk returns all networks with their details.
func (c *Client) NetworksBulk(ctx context.Context) ([]Network, error) {
	var nets []Network
	err := c.request(ctx, http.MethodGet, "/2/networks", bulkQuery(), nil, &nets)
	return nets, err
}

// Network returns one network.
func (c *Client) Network(ctx context.Context, name string) (*Network, error) {
	if err := checkName("network", name); err != nil {
		return nil, err
	}
	var n Network
	if err := c.request(ctx, http.MethodGet, pathEscape("2", "networks", name), nil, nil, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// NetworkTags returns a network's tags.
func (c *Client) NetworkTags(ctx context.Context, name string) ([]string, error) {
	if err := checkName("network", name); err != nil {
		return nil, err
	}
	return c.getTags(ctx, pathEscape("2", "networks", name, "tags"))
}

// AddNetworkTags adds tags to a network.
func (c *Client) AddNetworkTags(ctx context.Context, name string, tags []string) (JobID, error) {
	if err := checkName("network", name); err != nil {
		return 0, err
	}
	return c.changeTags(ctx, http.MethodPut, pathEscape("2", "networks", name, "tags"), tags)
}

// DeleteNetworkTags removes tags from a network.
func (c *Client) DeleteNetworkTags(ctx context.Context, name string, tags []string) (JobID, error) {
	if err := checkName("network", name); err != nil {
		return 0, err
	}
	return c.changeTags(ctx, http.MethodDelete, pathEscape("2", "networks", name, "tags"), tags)
}

// NetworkConnect are the parameters of ConnectNetwork.
type NetworkConnect struct {
	// Group is the node group to connect the network to (required).
	Group string
	// Mode is "bridged", "routed" or "openvswitch" (required).
	Mode string
	// Link is the bridge, routing table or switch (required).
	Link string
	// VLAN is the optional VLAN (openvswitch).
	VLAN string
	// NoConflictsCheck skips Ganeti's check for IP conflicts.
	NoConflictsCheck bool
}

// ConnectNetwork connects a network to a node group.
func (c *Client) ConnectNetwork(ctx context.Context, name string, p NetworkConnect) (JobID, error) {
	if err := checkName("network", name); err != nil {
		return 0, err
	}
	if err := checkName("group", p.Group); err != nil {
		return 0, err
	}
	if p.Mode == "" || p.Link == "" {
		return 0, invalidArg("network connect: mode and link are required")
	}
	body := map[string]any{
		"group_name":   p.Group,
		"network_mode": p.Mode,
		"network_link": p.Link,
	}
	if p.VLAN != "" {
		body["network_vlan"] = p.VLAN
	}
	if p.NoConflictsCheck {
		body["conflicts_check"] = false
	}
	return c.submit(ctx, http.MethodPut, pathEscape("2", "networks", name, "connect"), nil, body)
}

// DisconnectNetwork disconnects a network from a node group.
func (c *Client) DisconnectNetwork(ctx context.Context, name, group string) (JobID, error) {
	if err := checkName("network", name); err != nil {
		return 0, err
	}
	if err := checkName("group", group); err != nil {
		return 0, err
	}
	return c.submit(ctx, http.MethodPut, pathEscape("2", "networks", name, "disconnect"), nil,
		map[string]any{"group_name": group})
}
