"""Apollo Client 4 (``tests/js/apollo.mjs``) against a live demo server, set up only as
the README says: a query, a mutation whose result updates the cache by itself, and
an ``UNAUTHENTICATED`` error whose code the client can read."""

from __future__ import annotations

import json

from tests.live_demo import DemoServer, demo_server, run_node

__all__ = ["demo_server"]


async def test_apollo_client(demo_server: DemoServer) -> None:
    result = run_node(
        "apollo.mjs",
        demo_server.graphql_url,
        demo_server.staff_token(),
        demo_server.staff_token(role="tenant_admin"),
    )
    assert result.returncode == 0, result.stderr
    findings = json.loads(result.stdout)
    assert findings["query"]["count"] == 3
    assert set(findings["query"]["statuses"]) == {"CONFIRMED"}
    assert findings["mutation"] == {"returned": "CANCELLED", "cachedStatus": "CANCELLED"}
    assert findings["normalised"]["partnerGrants"] > 0
    assert findings["unauthenticated"] == {
        "thrown": True,
        "graphQLErrors": True,
        "codes": ["UNAUTHENTICATED"],
        "name": "CombinedGraphQLErrors",
    }
