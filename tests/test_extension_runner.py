"""The runner that finds extension hooks once per class runs what Strawberry would run.

For every phase, the hooks it enters are those of Strawberry's own runner: the
same extensions, in the same order, sync or async alike, and each enters and
leaves around the phase as before (the session is closed even when a phase
fails).
"""

from __future__ import annotations

import httpx
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from basics.settings import Settings
from schema.build import build_schema
from schema.extension_runner import CachedHooksRunner
from tests.conftest import TEST_SECRET
from tests.fixtures import World
from tests.graphql_client import gql

PHASES = ("operation", "parsing", "validation", "executing")


def _hooks(runner: SchemaExtensionsRunner, phase: str) -> list[tuple[str, bool]]:
    manager = getattr(runner, phase)()
    return [(type(hook.extension).__name__, hook.is_async) for hook in manager.hooks]


def test_each_phase_has_the_hooks_strawberry_would_find() -> None:
    for env in ("development", "production"):
        settings = Settings(
            database_url="sqlite+aiosqlite:///unused.db",
            secret_key=TEST_SECRET,
            erasure_key=TEST_SECRET,
            env=env,  # type: ignore[arg-type]
        )
        schema = build_schema(settings)
        context = ExecutionContext(query="{ __typename }", schema=schema, allowed_operations=())
        for _ in range(2):  # the second time from what the first one found
            extensions = schema.get_extensions()
            ours = schema.create_extensions_runner(context, extensions)
            theirs = SchemaExtensionsRunner(execution_context=context, extensions=extensions)
            assert isinstance(ours, CachedHooksRunner)
            for phase in PHASES:
                expected = _hooks(theirs, phase)
                assert _hooks(ours, phase) == expected
                assert expected or phase == "parsing"


async def test_hooks_run_around_every_phase_on_success_and_failure(
    client: httpx.AsyncClient, world: World
) -> None:
    """Limits (validation), argument checks (execution) and error codes (operation) all apply."""
    token = world.a.tokens["staff"]
    for _ in range(2):
        assert (await gql(client, "{ viewer { kind } }", token=token)).ok()["viewer"]["kind"]
        invalid = await gql(client, "{ viewer { nope } }", token=token)
        assert invalid.codes == ["BAD_USER_INPUT"] and "nope" in invalid.errors[0]["message"]
        bad_text = await gql(
            client,
            "query($q: String) { customers(search: $q) { totalCount } }",
            {"q": "a\u202eb"},
            token=token,
        )
        assert bad_text.codes == ["BAD_USER_INPUT"]
        assert bad_text.errors[0]["extensions"]["field"] == "search"
