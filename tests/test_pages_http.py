"""The pages over HTTP, without a browser: security headers, no other origin, texts, no data.

Every page carries a CSP that allows this origin only and no inline script
or style; no page, script or stylesheet names another origin; every text the
templates and scripts use is in both catalogues; a page reads nothing, so it
is byte for byte the same for every caller, whoever's credential it carries
(staff of either tenant, a partner key, a data subject, or none).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from importlib import resources

import httpx
import pytest

from tests.fixtures import World

PAGES = [
    "/",
    "/?lang=en",
    "/book/aarhus-syn",
    "/book/aarhus-syn?lang=en",
    "/book/no-such-business",
    "/book/Bad_Slug",
    "/privacy",
    "/privatliv",
    "/privacy?lang=en",
    "/privacy?lang=xx",
]
# An XML namespace name in the icon is an identifier, never fetched.
NOT_A_LOAD = {"http://www.w3.org/2000/svg"}
URL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s\"'<>)]*")


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> and <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[tuple[str, dict[str, str | None], str]] = []
        self._open: tuple[str, dict[str, str | None]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._open = (tag, dict(attrs))

    def handle_data(self, data: str) -> None:
        if self._open is not None and data.strip():
            self.inline.append((*self._open, data))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._open = None


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def _static_files() -> dict[str, str]:
    folder = resources.files("pages").joinpath("static")
    return {item.name: item.read_text("utf-8") for item in folder.iterdir() if item.is_file()}


def _foreign_urls(text: str) -> set[str]:
    return {url for url in URL.findall(text) if url not in NOT_A_LOAD}


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_has_a_strict_csp_and_loads_only_from_its_own_origin(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == (404 if path.startswith("/book/Bad") else 200)
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy and "http" not in policy and "*" not in policy
    assert "set-cookie" not in response.headers  # the language is no cookie either
    page = _parse(response.text)
    for tag, attributes in page.tags:
        assert "style" not in attributes, f"inline style on <{tag}>"
        assert not any(name.startswith("on") for name in attributes), f"inline handler on <{tag}>"
        for name in ("src", "href", "action"):
            value = attributes.get(name)
            if value is not None and not value.startswith(("mailto:", "tel:", "#")):
                assert value.startswith("/") and not value.startswith("//"), (tag, name, value)
    for tag, attributes, _text in page.inline:
        # The one inline block is data for the scripts, which a browser does not run.
        assert tag == "script" and attributes.get("type") == "application/json"
    assert _foreign_urls(response.text) == set()
    # Every field has a label that names it.
    labelled = {a.get("for") for tag, a in page.tags if tag == "label"}
    for tag, attributes in page.tags:
        if tag in ("input", "select", "textarea") and attributes.get("type") != "hidden":
            assert attributes.get("id") in labelled, (
                f"<{tag} id={attributes.get('id')}> has no label"
            )


async def test_scripts_styles_and_icon_are_served_and_name_no_other_origin(
    client: httpx.AsyncClient,
) -> None:
    files = _static_files()
    assert {"common.js", "book.js", "privacy.js", "privacy-data.js", "pages.css"} <= set(files)
    for name, text in files.items():
        assert _foreign_urls(text) == set(), name
        assert "document.cookie" not in text and "localStorage" not in text, name
        assert "innerHTML" not in text and "eval(" not in text, name
        response = await client.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert response.text == text
    assert (await client.get("/static/../routes.py")).status_code == 404


def test_every_page_route_declares_its_authorization() -> None:
    from pages.routes import DOORS, PAGE_ROUTES

    paths = {getattr(route, "path", None) for route in PAGE_ROUTES}
    assert paths == set(DOORS)
    assert all("no data read" in declared for declared in DOORS.values())


def test_both_catalogues_hold_every_text_the_pages_use() -> None:
    folder = resources.files("pages")
    da = json.loads(folder.joinpath("messages", "da.json").read_text("utf-8"))
    en = json.loads(folder.joinpath("messages", "en.json").read_text("utf-8"))
    assert set(da) == set(en)
    assert all(isinstance(v, str) and v.strip() for v in [*da.values(), *en.values()])
    sources = [item.read_text("utf-8") for item in folder.joinpath("templates").iterdir()]
    sources += list(_static_files().values())
    used = set()
    for text in sources:
        used |= set(re.findall(r"""t\[["']([A-Za-z0-9_.]+)["']\]""", text))
        used |= set(re.findall(r"""\bt\("([A-Za-z0-9_.]+)"[,)]""", text))
    assert used, "no message keys found: the pattern no longer matches the sources"
    assert used <= set(da), sorted(used - set(da))


async def test_a_page_is_the_same_for_every_caller_and_holds_no_personal_data(
    client: httpx.AsyncClient, world: World
) -> None:
    credentials = [
        None,
        world.a.tokens["tenant_admin"],
        world.b.tokens["staff"],
        world.a.api_keys["partner_reminders"],
        next(iter(world.subject_tokens.values())),
    ]
    for path in ("/book/" + world.a.slug, "/privacy"):
        bodies = set()
        for credential in credentials:
            headers = {"Authorization": f"Bearer {credential}"} if credential else {}
            response = await client.get(path, headers=headers)
            assert response.status_code == 200
            bodies.add(response.text)
        assert len(bodies) == 1, f"{path} differs by caller"


def test_the_catalogues_translate_every_term_of_the_data_map() -> None:
    """The portal shows the API's Art. 15(1) terms in the page's language: none may be missing."""
    from privacy.access import ENTITY_TABLES, RIGHTS, SOURCES
    from store.data_map import Category, Purpose

    for language in ("da", "en"):
        messages = json.loads(
            resources.files("pages").joinpath("messages", f"{language}.json").read_text("utf-8")
        )
        wanted = {f"right.{i}" for i in range(len(RIGHTS))}
        wanted |= {f"entity.{entity}" for entity in ENTITY_TABLES}
        wanted |= {f"source.{via.value}" for via in SOURCES}
        wanted |= {
            f"category.{c.value}"
            for c in Category
            if c not in (Category.IDENTIFIER, Category.NON_PERSONAL)
        }
        for purpose in Purpose:
            if purpose is not Purpose.OPERATION:
                key = f"purpose.{purpose.value}"
                wanted |= {key, f"{key}.description", f"{key}.legalBasis", f"{key}.retention"}
        assert wanted <= set(messages), (language, sorted(wanted - set(messages)))
        assert f"right.{len(RIGHTS)}" not in messages
        if language == "en":  # the English list is the API's, so a reordering shows here
            assert [messages[f"right.{i}"] for i in range(len(RIGHTS))] == RIGHTS
