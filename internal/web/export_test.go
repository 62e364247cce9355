package web

// SetFullRenders makes the instance list render every page in full,
// bypassing the page and frame caches, so tests can compare the two.
func (s *Server) SetFullRenders(on bool) { s.fullRenders = on }
