"""A partner's mirror of a service's data, read as pages of its changes by revision (the exports and change feeds
of gateway/routes/exports.py): the cursor's rule and a page's bookkeeping, the same for every kind of data."""
from services.shared.errors import Gone


def require_known(after, latest, what, export):
    """A cursor is a revision this data gave; one beyond its newest never was (another installation's, or from
    before a restore): 410, and how to start over."""
    if after > latest:
        raise Gone("CURSOR_UNKNOWN", f"{what} never gave cursor {after} (its newest is {latest}): start over with a "
                   f"full export (GET {export}) and follow the feed from its last cursor.",
                   {"field": "after", "latest": latest})


def page(items, revisions, after, latest):
    """A page's answer: its lines, the cursor after the rows it read (`revisions`, filtered out or not), and
    whether more follow."""
    last = revisions[-1] if revisions else after
    return {"items": items, "next": last, "latest": latest, "more": last < latest}
