"""Who may see and add documents.

The owner of a document decides: if its model defines `ged_access_allowed(self, user) -> bool`,
that method answers for its documents (a dossier restricted to its gestionnaire, say). Otherwise
the default rule holds: a user sees the documents of any record when they have the permission
`ged.view_document`, and attaches documents when they have `ged.add_document`; a data migration
gives both to the three role groups (Gestionnaire, Direction, Service juridique), so any member
of the agency's staff may, a user without a role may not. Anonymous or inactive users never may.
"""

from django.db import models

from ged.models import Document


def accepts_uploads(owner: models.Model) -> bool:
    """May documents be added to `owner` through the GED's own pages (upload, owner page)?

    Only the records whose model says so (`ged_uploads = True`: an incoming item) do; the
    others get their documents from their own services (a mandate's proof, a reply's letter, an
    email's .eml), and a user must not be able to hang files on any row of any table (an event
    of the append-only log, a user) by posting its content type and id.
    """
    return getattr(owner, "ged_uploads", False) is True


def can_view(user, document: Document) -> bool:
    """May `user` preview and download `document`? (Fetches the owner: one query.)"""
    return _allowed(user, document.owner, "ged.view_document")


def can_view_owner(user, owner: models.Model) -> bool:
    """May `user` see the list of documents of `owner`?"""
    return _allowed(user, owner, "ged.view_document")


def can_attach(user, owner: models.Model) -> bool:
    """May `user` add documents (or new versions) to `owner`?"""
    return _allowed(user, owner, "ged.add_document")


def _allowed(user, owner, permission: str) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    delegate = getattr(owner, "ged_access_allowed", None)
    if callable(delegate):
        return bool(delegate(user))
    # A missing owner (row gone) falls back to the default rule rather than locking the
    # document away from everyone.
    return user.has_perm(permission)
