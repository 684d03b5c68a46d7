package api

import "github.com/go-chi/chi/v5"

// Chi returns the router, for the tests that walk its routes; a test hook,
// not part of the package's API.
func (a *API) Chi() chi.Routes { return a.router }
