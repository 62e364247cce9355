package instanceops

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// mailRefusalTx mails the administrators, inside tx, about a refused
// attempt on an instance that is not the user's, unless they were mailed
// about this user and instance within RefusalMailEvery.
func (s *Service) mailRefusalTx(ctx context.Context, tx pgx.Tx, req Request, t *target, a *action) error {
	ok, err := store.ClaimRefusalMailTx(ctx, tx, req.userID(), t.cluster.ID, t.name, s.mailEvery)
	if err != nil || !ok {
		return err
	}
	m := mail.InstanceRefused{Username: req.Principal.User.Username, Cluster: t.slug, Instance: t.name,
		Action: string(a.kind), Detail: a.detail, Path: InstancePath(t.slug, t.name)}
	if req.Addr.IsValid() {
		m.Addr = req.Addr.String()
	}
	_, err = s.mail.EnqueueAdminsTx(ctx, tx, m)
	return err
}
