package rapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// Feature strings of /2/features.
const (
	FeatureInstanceCreateReqV1    = "instance-create-reqv1"
	FeatureInstanceReinstallReqV1 = "instance-reinstall-reqv1"
	FeatureNodeMigrateReqV1       = "node-migrate-reqv1"
	FeatureNodeEvacRes1           = "node-evac-res1"
)

func bulkQuery() url.Values { return url.Values{"bulk": {"1"}} }

// Version returns the RAPI version (2).
func (c *Client) Version(ctx context.Context) (int, error) {
	var v int
	err := c.request(ctx, http.MethodGet, "/version", nil, nil, &v)
	return v, err
}

// Info returns the cluster information (/2/info).
func (c *Client) Info(ctx context.Context) (*Info, error) {
	raw, err := c.requestRaw(ctx, http.MethodGet, "/2/info", nil, nil)
	if err != nil {
		return nil, err
	}
	var info Info
	if err := decodeJSON(raw, &info); err != nil {
		return nil, fmt.Errorf("rapi: GET /2/info: decode response: %w", err)
	}
	info.Raw = raw
	return &info, nil
}

// Features returns the cluster's feature strings. Very old clusters without
// the resource (404) give an empty list.
func (c *Client) Features(ctx context.Context) ([]string, error) {
	var f []string
	err := c.request(ctx, http.MethodGet, "/2/features", nil, nil, &f)
	if IsNotFound(err) {
		return []string{}, nil
	}
	return f, err
}

// HasFeature reports whether /2/features lists feature.
func (c *Client) HasFeature(ctx context.Context, feature string) (bool, error) {
	f, err := c.Features(ctx)
	if err != nil {
		return false, err
	}
	return slices.Contains(f, feature), nil
}

// requireFeature checks a feature once per client; a positive answer is
// remembered.
func (c *Client) requireFeature(ctx context.Context, seen interface {
	Load() bool
	Store(bool)
}, feature string) error {
	if seen.Load() {
		return nil
	}
	ok, err := c.HasFeature(ctx, feature)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnsupported, feature)
	}
	seen.Store(true)
	return nil
}

// OSes returns the names of the valid OS definitions ("name+variant").
// Ganeti runs an OS diagnose job for this: it is slow.
func (c *Client) OSes(ctx context.Context) ([]string, error) {
	var oses []string
	err := c.request(ctx, http.MethodGet, "/2/os", nil, nil, &oses)
	return oses, err
}

// OSesBulk returns the OS definitions with their variants and parameters.
func (c *Client) OSesBulk(ctx context.Context) ([]OS, error) {
	var oses []OS
	err := c.request(ctx, http.MethodGet, "/2/os", bulkQuery(), nil, &oses)
	return oses, err
}

// ModifyCluster changes cluster parameters (PUT /2/modify; the body holds
// OP_CLUSTER_SET_PARAMS parameters).
func (c *Client) ModifyCluster(ctx context.Context, params map[string]any) (JobID, error) {
	if params == nil {
		params = map[string]any{}
	}
	return c.submit(ctx, http.MethodPut, "/2/modify", nil, params)
}

// RedistributeConfig pushes the cluster configuration to all nodes.
func (c *Client) RedistributeConfig(ctx context.Context) (JobID, error) {
	return c.submit(ctx, http.MethodPut, "/2/redistribute-config", nil, nil)
}

// ClusterTags returns the cluster's tags.
func (c *Client) ClusterTags(ctx context.Context) ([]string, error) {
	return c.getTags(ctx, "/2/tags")
}

// AddClusterTags adds tags to the cluster.
func (c *Client) AddClusterTags(ctx context.Context, tags []string) (JobID, error) {
	return c.changeTags(ctx, http.MethodPut, "/2/tags", tags)
}

// DeleteClusterTags removes tags from the cluster.
func (c *Client) DeleteClusterTags(ctx context.Context, tags []string) (JobID, error) {
	return c.changeTags(ctx, http.MethodDelete, "/2/tags", tags)
}

// getTags reads a tags resource.
func (c *Client) getTags(ctx context.Context, path string) ([]string, error) {
	var tags []string
	err := c.request(ctx, http.MethodGet, path, nil, nil, &tags)
	if err == nil && tags == nil {
		tags = []string{}
	}
	return tags, err
}

// changeTags adds (PUT) or removes (DELETE) tags, given as repeated "tag"
// query parameters (what rlib2 reads).
func (c *Client) changeTags(ctx context.Context, method, path string, tags []string) (JobID, error) {
	if len(tags) == 0 {
		return 0, invalidArg("no tags given")
	}
	for _, t := range tags {
		if t == "" {
			return 0, invalidArg("empty tag")
		}
	}
	return c.submit(ctx, method, path, url.Values{"tag": tags}, nil)
}
