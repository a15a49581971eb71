"""How the site's paths are laid out: the API's prefix, where a browser may be sent back to, and the `int` URL
converter of every route (an id the database can hold, in ASCII digits)."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app
from werkzeug.routing import IntegerConverter, Map

from webapp.models import MAX_ID

#: Everything under it is the API's: answered in JSON, even paths no route matches.
API_PREFIX = "/api/"


def is_api_path(path: str) -> bool:
    """Whether a request is the API's, by its path alone."""
    return path.startswith(API_PREFIX)


#: A path on this site: one slash, then printable ASCII. Browsers and werkzeug drop tabs and newlines
#: ("/\t/evil" becomes "//evil", another site) and read "\\" as "/"; a newline also split the header (a 500).
_LOCAL_PATH = re.compile(r"/(?![/\\])[\x21-\x7e]*")


#: The longest address a browser is sent back to, and its most segments: no page of the site comes near, and each
#: segment costs a look-up in the URL map (a 16 KB `next` took seconds of a worker).
_TARGET_LENGTH = 1000
_TARGET_SEGMENTS = 12
#: A "." or ".." segment, as typed or percent-encoded: the browser resolves it, so the path checked is not the
#: path it goes to.
_DOT_SEGMENT = re.compile(r"/(\.|%2e){1,2}(/|$|\?)", re.IGNORECASE)


def page_at(target: str) -> str | None:
    """Where a browser may be sent back to (after switching the language, after logging in): `target` if it is a
    page of this site; the nearest page above it if only a form's POST reaches it (`/clinic/verify`, a refused
    form: asked for again, it was a 405); None if it is no path of this site, or not one a page has."""
    page = target.partition("?")[0]
    if (
        len(target) > _TARGET_LENGTH
        or page.count("/") > _TARGET_SEGMENTS
        or not _LOCAL_PATH.fullmatch(target)
        or _DOT_SEGMENT.search(target)
    ):
        return None
    urls = current_app.url_map.bind("")
    if urls.test(page, method="GET"):
        return target
    while page != "/" and not urls.test(page, method="GET"):
        page = page.rstrip("/").rsplit("/", 1)[0] or "/"
    return page


class DatabaseId(IntegerConverter):
    """Werkzeug's own `int` takes any length and any script's digits (`/tokens/١٢٣`). An id past the
    column's range then failed in the database (a 500 on SQLite, a 503 on PostgreSQL) where it should
    have been no such page: here it does not match the route, so it is a 404 before any view runs."""

    #: No more digits than the largest id has: a longer number matches no route at all, so it is a 404 for every
    #: method. Past the regex, a value over the maximum fails the conversion, which Werkzeug counts as a match
    #: of the path: where another method's rule shares it, that answers 405 instead.
    regex = f"[0-9]{{1,{len(str(MAX_ID))}}}"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
