package web

import (
	"context"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// flashWelcome is the kind of the first-login welcome: shown as "info",
// with a link to the SSH keys page.
const flashWelcome = "welcome"

// flash is a one-time message kept in the session until the next page shows it.
type flash struct {
	Kind string // "success", "info", "warning", "error", flashWelcome
	ID   string // message id
}

// FlashView is a flash as templates see it.
type FlashView struct {
	Kind string
	Msg  i18n.Msg
}

func (s *Server) addFlash(ctx context.Context, kind string, m i18n.Msg) {
	fl, _ := s.sessions.Get(ctx, keyFlash).([]flash)
	s.sessions.Put(ctx, keyFlash, append(fl, flash{Kind: kind, ID: m.ID()}))
}

func (s *Server) popFlashes(ctx context.Context) []FlashView {
	fl, _ := s.sessions.Pop(ctx, keyFlash).([]flash)
	out := make([]FlashView, 0, len(fl))
	for _, f := range fl {
		out = append(out, FlashView{Kind: f.Kind, Msg: i18n.Stored(f.ID)})
	}
	return out
}
