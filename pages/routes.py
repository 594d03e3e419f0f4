"""The routes of the pages: `/`, `/book/{slug}`, `/privacy` (and `/privatliv`), static files.

Mounted by the application with one line (``*PAGE_ROUTES``).
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from pages.i18n import choose_language
from pages.render import render_page

# How the authorization kernel should classify these doors: they serve the same
# template to every caller and read nothing from the database. The booking page
# and the portal fetch every datum from POST /graphql in the browser, with the
# caller's own principal (anonymous, or the subject's bearer token), so the
# API's decisions are the only ones that apply.
AUTHORIZATION = "public-shell: no data read; all reads and writes go through POST /graphql"

# A tenant slug as the service issues them; anything else is a 404 without a lookup.
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def _language(request: Request) -> str:
    return choose_language(request.query_params.get("lang"))


async def index(request: Request) -> Response:
    return render_page("index.html", _language(request), request.url.path)


async def book(request: Request) -> Response:
    slug = str(request.path_params["slug"])
    language = _language(request)
    if not _SLUG.fullmatch(slug):
        return render_page("missing.html", language, request.url.path, status_code=404)
    return render_page("book.html", language, request.url.path, tenant_slug=slug)


async def privacy(request: Request) -> Response:
    return render_page("privacy.html", _language(request), request.url.path)


# Each door of this package with its authorization, for a registry of doors to read.
DOORS: dict[str, str] = {
    path: AUTHORIZATION for path in ("/", "/book/{slug}", "/privacy", "/privatliv", "/static")
}

PAGE_ROUTES: list[BaseRoute] = [
    Route("/", index, methods=["GET"]),
    Route("/book/{slug}", book, methods=["GET"]),
    Route("/privacy", privacy, methods=["GET"]),
    Route("/privatliv", privacy, methods=["GET"]),
    Mount("/static", StaticFiles(packages=[("pages", "static")]), name="static"),
]
