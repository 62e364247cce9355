package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/accounts"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// groupForm is the new-group form with its errors.
type groupForm struct {
	Name   string
	Errors fieldErrors
}

// groupName reads the posted group name and checks it: the rule of
// accounts.CheckGroupName, and no other group of that name
// (case-insensitively) than except (0 for none). A refusal is a field
// error on "name".
func (s *Server) groupName(ctx context.Context, r *http.Request, except int64) (string, fieldErrors, error) {
	name := strings.TrimSpace(r.PostForm.Get("name"))
	var errs fieldErrors
	if fe := accounts.CheckGroupName(name); fe != nil {
		return name, errs.add("name", fe.Message.Msg, fe.Message.Args...), nil
	}
	g, err := s.store.GroupByName(ctx, name)
	switch {
	case err == nil && g.ID != except:
		return name, errs.add("name", i18n.M("adminacct.groups.name.taken")), nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return name, nil, err
	}
	return name, nil, nil
}

// groupMemberIDs returns the ids of a group's members.
func (s *Server) groupMemberIDs(ctx context.Context, groupID int64) ([]int64, error) {
	ms, err := s.store.GroupMembers(ctx, groupID)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(ms))
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids, nil
}
