package registry

import (
	"context"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// ACR's changeable attributes, as enforced here:
//   - writeEnabled=false locks an item: a repository takes no pushes and
//     nothing in it is deleted; a tag is not moved or deleted; a manifest
//     is not deleted.
//   - deleteEnabled=false forbids deleting the item (and, for a
//     repository, anything in it).
//   - readEnabled=false forbids pulling the manifest (a repository's: all
//     of them).
//   - listEnabled=false hides a tag from tag listings.
//
// Attribute updates themselves are always allowed: that is how an item is
// unlocked.

// AttributesPatch changes some attributes; nil leaves one.
type AttributesPatch struct {
	DeleteEnabled, WriteEnabled, ReadEnabled, ListEnabled *bool
}

func (p AttributesPatch) apply(a *Attributes) {
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&a.DeleteEnabled, p.DeleteEnabled)
	set(&a.WriteEnabled, p.WriteEnabled)
	set(&a.ReadEnabled, p.ReadEnabled)
	set(&a.ListEnabled, p.ListEnabled)
}

// writable checks that an item may be overwritten (deleting=false) or
// deleted (deleting=true).
func writable(what string, a Attributes, deleting bool) error {
	if !a.WriteEnabled {
		return ErrOperationDisabled.WithMessage("the operation is disallowed on %s: its writeEnabled attribute is false", what).WithTarget(what)
	}
	if deleting && !a.DeleteEnabled {
		return ErrOperationDisabled.WithMessage("the operation is disallowed on %s: its deleteEnabled attribute is false", what).WithTarget(what)
	}
	return nil
}

func readable(what string, a Attributes) error {
	if !a.ReadEnabled {
		return ErrOperationDisabled.WithMessage("the operation is disallowed on %s: its readEnabled attribute is false", what).WithTarget(what)
	}
	return nil
}

// checkRepoWrite checks the repository's attributes, when it exists,
// before a push (deleting=false) or a delete in it.
func (s *Service) checkRepoWrite(ctx context.Context, reg, repo string, deleting bool) error {
	r, err := s.store.GetRepository(ctx, reg, repo)
	switch {
	case errdefs.IsKind(err, errdefs.NotFound):
		return nil
	case err != nil:
		return err
	}
	return writable("repository "+repo, r.Attributes, deleting)
}
