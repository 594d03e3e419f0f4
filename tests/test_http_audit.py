"""The graphql-http audit (npm ``graphql-http``, ``auditServer``) against a live server:
no error and no warning, anonymous and with a staff token."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.live_demo import DemoServer, demo_server, run_node

__all__ = ["demo_server"]

# Until every caller may ask for ``__typename`` at the root (the audit's probe
# query), the audit fails for that reason alone; any other failure still fails.
TYPENAME_REFUSED = "not allowed to read Query.__type"


def _audit(server: DemoServer, token: str | None) -> dict[str, Any]:
    args = [server.graphql_url, *([token] if token else [])]
    result = run_node("audit.mjs", *args)
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    print(f"graphql-http audit ({'staff' if token else 'anonymous'}): {report['counts']}")
    return report


@pytest.mark.parametrize("who", ["anonymous", "staff"])
async def test_graphql_http_audit(demo_server: DemoServer, who: str) -> None:
    token = demo_server.staff_token() if who == "staff" else None
    report = _audit(demo_server, token)
    failing = [f for f in report["failures"] if f["status"] in ("error", "warn")]
    if failing and all(TYPENAME_REFUSED in (f["body"] or "") for f in failing):
        pytest.xfail(f"only because {{ __typename }} is refused at the root: {report['counts']}")
    assert report["counts"]["error"] == 0, json.dumps(failing, indent=1)
    assert report["counts"]["warn"] == 0, json.dumps(failing, indent=1)
    assert report["total"] == sum(report["counts"].values()) > 50
