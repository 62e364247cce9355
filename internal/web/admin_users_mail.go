package web

import (
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// mailAccountTx returns the work that queues m to the account's owner, in
// their language, inside the transaction of the change it reports; none
// when the server sends no mail.
func (s *Server) mailAccountTx(u *store.User, m mail.Mail) []store.TxFunc {
	if s.outbox == nil {
		return nil
	}
	to := mail.Recipient{Address: u.Email, Name: i18n.FormatName(u.FirstName, u.LastName), Lang: u.Language}
	return []store.TxFunc{s.mailTo(to, m)}
}
