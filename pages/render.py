"""Rendering a page: Jinja2 template, message catalogue, and the page's security headers.

The CSP allows this origin only and no inline script or style: the templates
carry their data for the scripts in a non-executable ``application/json``
block, which the browser does not run.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from pages.i18n import LANGUAGES, catalogue

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

_environment = Environment(
    loader=PackageLoader("pages", "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_page(
    template: str, language: str, path: str, *, status_code: int = 200, **values: Any
) -> HTMLResponse:
    """The page in ``language``; ``values`` go to the template and its JSON data block."""
    messages = catalogue(language)
    other = [lang for lang in LANGUAGES if lang != language]
    html = _environment.get_template(template).render(
        t=messages,
        lang=language,
        other_languages=other,
        path=path,
        page_data={"lang": language, "messages": messages, **values},
        **values,
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-store"
    return response
