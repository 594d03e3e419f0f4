"""The Content-Security-Policy of the GraphiQL page (development only).

The page loads React, GraphiQL and its explorer plugin from unpkg (pinned by
Strawberry with subresource integrity), styles itself inline and runs one inline
script. The policy allows exactly that: the inline script by its hash, so a
script injected into the page would still not run, and requests only to this
origin.
"""

from __future__ import annotations

import base64
import hashlib
import re

from strawberry.http.ides import get_graphql_ide_html

CDN = "https://unpkg.com"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _inline_script_hashes(html: str) -> list[str]:
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]


def graphiql_csp(html: str) -> str:
    scripts = " ".join([CDN, *_inline_script_hashes(html)])
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {scripts}",
            f"style-src {CDN} https://fonts.googleapis.com 'unsafe-inline'",
            f"font-src {CDN} https://fonts.gstatic.com data:",
            "img-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


GRAPHIQL_CSP = graphiql_csp(get_graphql_ide_html("graphiql"))
