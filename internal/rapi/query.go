package rapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// QueryResource is a resource of the query interface (/2/query/<resource>).
type QueryResource string

// Query resources.
const (
	QueryInstance QueryResource = "instance"
	QueryNode     QueryResource = "node"
	QueryGroup    QueryResource = "group"
	QueryNetwork  QueryResource = "network"
	QueryJob      QueryResource = "job"
	QueryExport   QueryResource = "export"
	QueryLock     QueryResource = "lock"
	QueryFilter   QueryResource = "filter"
)

func (r QueryResource) valid() bool {
	switch r {
	case QueryInstance, QueryNode, QueryGroup, QueryNetwork, QueryJob, QueryExport, QueryLock, QueryFilter:
		return true
	}
	return false
}

// Per-cell result status of a query.
const (
	QueryStatusNormal  = 0 // value present
	QueryStatusUnknown = 1 // unknown field
	QueryStatusNoData  = 2 // no data (e.g. not applicable)
	QueryStatusUnavail = 3 // unavailable (e.g. node down)
	QueryStatusOffline = 4 // node offline
)

// QueryField describes one field of a query answer.
type QueryField struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	Kind  string `json:"kind"` // text, bool, number, unit, timestamp, other
	Doc   string `json:"doc"`
}

// QueryCell is one [status, value] cell of a query answer.
type QueryCell struct {
	Status int
	Value  json.RawMessage
}

// UnmarshalJSON decodes [status, value]; anything else gives an
// "unavailable" cell.
func (c *QueryCell) UnmarshalJSON(data []byte) error {
	*c = QueryCell{Status: QueryStatusUnavail}
	var parts []json.RawMessage
	if lenientUnmarshal(data, &parts) != nil || len(parts) == 0 {
		return nil
	}
	var st int
	if lenientUnmarshal(parts[0], &st) != nil {
		return nil
	}
	c.Status = st
	if len(parts) > 1 {
		c.Value = append(json.RawMessage(nil), bytes.TrimSpace(parts[1])...)
	}
	return nil
}

// OK reports whether the cell holds a normal value.
func (c QueryCell) OK() bool { return c.Status == QueryStatusNormal }

// String returns a string value, the JSON text of a number or boolean, or
// "" (null, containers, abnormal status).
func (c QueryCell) String() string {
	if !c.OK() {
		return ""
	}
	return rawScalar(c.Value)
}

// Int returns an integer value; ok is false when there is none.
func (c QueryCell) Int() (n int64, ok bool) {
	if !c.OK() {
		return 0, false
	}
	if err := json.Unmarshal(c.Value, &n); err == nil {
		return n, true
	}
	var f float64
	if err := json.Unmarshal(c.Value, &f); err == nil && f >= -9e18 && f <= 9e18 {
		return int64(f), true
	}
	return 0, false
}

// Bool returns a boolean value (false when absent).
func (c QueryCell) Bool() bool {
	return c.OK() && string(c.Value) == "true"
}

// Decode unmarshals the value into v.
func (c QueryCell) Decode(v any) error {
	if !c.OK() {
		return fmt.Errorf("rapi: query cell status %d", c.Status)
	}
	return json.Unmarshal(c.Value, v)
}

// QueryResult is a query answer: the fields and one row of cells per item,
// in field order.
type QueryResult struct {
	Fields []QueryField  `json:"fields"`
	Data   [][]QueryCell `json:"data"`
}

// Index returns the column of field name, or -1.
func (r *QueryResult) Index(name string) int {
	for i, f := range r.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// Cell returns row's cell of field name; missing cells are "unknown".
func (r *QueryResult) Cell(row int, name string) QueryCell {
	i := r.Index(name)
	if i < 0 || row < 0 || row >= len(r.Data) || i >= len(r.Data[row]) {
		return QueryCell{Status: QueryStatusUnknown}
	}
	return r.Data[row][i]
}

// Rows returns each row as a map from field name to cell.
func (r *QueryResult) Rows() []map[string]QueryCell {
	out := make([]map[string]QueryCell, 0, len(r.Data))
	for _, row := range r.Data {
		m := make(map[string]QueryCell, len(r.Fields))
		for i, f := range r.Fields {
			if i < len(row) {
				m[f.Name] = row[i]
			}
		}
		out = append(out, m)
	}
	return out
}

// decodeQuery decodes a query answer.
func decodeQuery(raw []byte) (*QueryResult, error) {
	var r QueryResult
	if err := decodeJSON(raw, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Query runs a query with PUT /2/query/<resource>, body {"fields", "qfilter"}.
// filter is a Ganeti filter expression (see Filter and its helpers) or nil
// for all items.
func (c *Client) Query(ctx context.Context, resource QueryResource, fields []string, filter Filter) (*QueryResult, error) {
	if !resource.valid() {
		return nil, invalidArg("query resource %q", resource)
	}
	if len(fields) == 0 {
		return nil, invalidArg("query: no fields")
	}
	body := map[string]any{"fields": fields, "qfilter": nil}
	if filter != nil {
		body["qfilter"] = filter
	}
	path := "/2/query/" + string(resource)
	raw, err := c.requestRaw(ctx, http.MethodPut, path, nil, body)
	if err != nil {
		return nil, err
	}
	r, err := decodeQuery(raw)
	if err != nil {
		return nil, fmt.Errorf("rapi: PUT %s: decode response: %w", path, err)
	}
	return r, nil
}

// QueryGet runs a query with GET /2/query/<resource>?fields=a,b (no filter).
func (c *Client) QueryGet(ctx context.Context, resource QueryResource, fields []string) (*QueryResult, error) {
	if !resource.valid() {
		return nil, invalidArg("query resource %q", resource)
	}
	if len(fields) == 0 {
		return nil, invalidArg("query: no fields")
	}
	path := "/2/query/" + string(resource)
	raw, err := c.requestRaw(ctx, http.MethodGet, path, url.Values{"fields": {strings.Join(fields, ",")}}, nil)
	if err != nil {
		return nil, err
	}
	r, err := decodeQuery(raw)
	if err != nil {
		return nil, fmt.Errorf("rapi: GET %s: decode response: %w", path, err)
	}
	return r, nil
}

// QueryFields describes the fields of a query resource; with fields nil,
// all of them.
func (c *Client) QueryFields(ctx context.Context, resource QueryResource, fields []string) ([]QueryField, error) {
	if !resource.valid() {
		return nil, invalidArg("query resource %q", resource)
	}
	var q url.Values
	if len(fields) > 0 {
		q = url.Values{"fields": {strings.Join(fields, ",")}}
	}
	var r struct {
		Fields []QueryField `json:"fields"`
	}
	err := c.request(ctx, http.MethodGet, "/2/query/"+string(resource)+"/fields", q, nil, &r)
	return r.Fields, err
}

// Filter is a Ganeti query filter expression (a nested list such as
// ["&", ["=~", "name", "^web"], ["==", "pnode", "n1"]]).
type Filter []any

// Eq matches items whose field equals value.
func Eq(field string, value any) Filter { return Filter{"==", field, value} }

// Ne matches items whose field differs from value.
func Ne(field string, value any) Filter { return Filter{"!=", field, value} }

// Regex matches items whose field matches the regular expression re.
func Regex(field, re string) Filter { return Filter{"=~", field, re} }

// Contains matches items whose list field contains value.
func Contains(field string, value any) Filter { return Filter{"=[]", field, value} }

// Truthy matches items whose field is true (non-empty, non-zero).
func Truthy(field string) Filter { return Filter{"?", field} }

// And matches items matching all filters.
func And(fs ...Filter) Filter { return combine("&", fs) }

// Or matches items matching any filter.
func Or(fs ...Filter) Filter { return combine("|", fs) }

// Not negates a filter.
func Not(f Filter) Filter { return Filter{"!", f} }

// NameIn matches items whose name is one of names.
func NameIn(names ...string) Filter {
	fs := make([]Filter, 0, len(names))
	for _, n := range names {
		fs = append(fs, Eq("name", n))
	}
	return Or(fs...)
}

func combine(op string, fs []Filter) Filter {
	out := make(Filter, 0, len(fs)+1)
	out = append(out, op)
	for _, f := range fs {
		out = append(out, f)
	}
	return out
}
