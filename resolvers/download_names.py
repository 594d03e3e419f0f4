"""The file name a downloaded document is saved under.

A browser or ``curl -OJ`` keeps the name the server gives, so it should say what
the file is and open with the right program: the document's kind and title,
and the extension of its media type (``inspection_report-synsrapport.pdf``).
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata

from store.models import Document

# The usual answers, fixed here rather than left to the host's mime.types.
_EXTENSIONS = {
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/csv": ".csv",
    "application/json": ".json",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "application/octet-stream": ".bin",
}
_UNSAFE = re.compile(r"[^a-z0-9]+")
MAX_STEM = 60


def extension_for(mime_type: str) -> str:
    media = mime_type.split(";", 1)[0].strip().lower()
    return _EXTENSIONS.get(media) or mimetypes.guess_extension(media) or ".bin"


def _ascii_slug(text: str) -> str:
    danish = text.lower().replace("æ", "ae").replace("ø", "o").replace("å", "aa")
    folded = unicodedata.normalize("NFKD", danish)
    ascii_text = folded.encode("ascii", "ignore").decode()
    return _UNSAFE.sub("-", ascii_text).strip("-")[:MAX_STEM].strip("-")


def download_filename(document: Document) -> str:
    """``<kind>-<title>.<ext>`` in plain ASCII; the kind alone when the title has no letters."""
    kind = document.kind.value.lower()
    title = _ascii_slug(document.title or "")
    stem = f"{kind}-{title}" if title else kind
    return stem + extension_for(document.mime_type or "")


def content_disposition(document: Document) -> str:
    """``attachment`` under the ASCII name (nothing in it needs quoting or encoding)."""
    return f'attachment; filename="{download_filename(document)}"'
