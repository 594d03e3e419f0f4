"""Message catalogues: one JSON file per language, Danish first.

Every text a page shows, in a template or from JavaScript, comes from here.
The language is chosen per request by ``?lang=`` and carried in links, never
in a cookie: the service promises exactly one cookie, the booking draft.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

LANGUAGES = ("da", "en")
DEFAULT_LANGUAGE = "da"


@cache
def catalogue(language: str) -> dict[str, str]:
    """The flat key → text map of one language (read once per process)."""
    text = resources.files("pages").joinpath("messages", f"{language}.json").read_text("utf-8")
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError(f"messages/{language}.json must hold one JSON object")
    return {str(key): str(value) for key, value in loaded.items()}


def choose_language(requested: str | None) -> str:
    """``?lang=en`` gives English; anything else, or nothing, Danish."""
    return requested if requested in LANGUAGES else DEFAULT_LANGUAGE
