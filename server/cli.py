"""The ``tenantgraph`` command line: serve, seed, tokens, keys, policy, privacy and upkeep."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from basics.principal import PARTNER_ROLES, STAFF_ROLES, Action, DenialStyle, Relation
from basics.settings import Settings, SettingsError, get_settings
from store.engine import create_engine, create_sessionmaker, write_transaction
from store.migrate import upgrade
from store.models import Tenant

T = TypeVar("T")


class CommandError(Exception):
    """A user-facing failure: printed without a traceback, exit status 2."""


def _with_sessions(
    settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]
) -> T:
    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            return await work(create_sessionmaker(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


async def _tenant(sessions: async_sessionmaker[AsyncSession], slug: str) -> Tenant:
    async with sessions() as session:
        tenant = (
            await session.execute(select(Tenant).where(Tenant.slug == slug))
        ).scalar_one_or_none()
    if tenant is None:
        raise CommandError(f"no tenant with slug {slug!r} (run `tenantgraph seed --demo` first?)")
    return tenant


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    settings.require_startable()
    upgrade(settings.database_url)
    if args.demo:
        _print_seed(_seed(settings))
    _print_endpoint(args.host, args.port, settings)
    uvicorn.run(
        "server.app:serve_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        # Requests are logged as JSON by the application itself.
        access_log=False,
    )


def _print_endpoint(host: str, port: int, settings: Settings) -> None:
    """Where to point a browser or a client; ``/healthz`` answers once it listens."""
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104
    if settings.is_production:
        print(f"tenantgraph: GraphQL at {base}/graphql", file=sys.stderr, flush=True)
    else:
        print(f"tenantgraph: GraphiQL at {base}/graphql", file=sys.stderr, flush=True)
    print(f"tenantgraph: ready when {base}/healthz answers", file=sys.stderr, flush=True)


def _seed(settings: Settings) -> str:
    from demo import seed_demo

    summary = _with_sessions(settings, seed_demo)
    if not summary.created:
        return "demo data already present; nothing seeded"
    return (
        f"seeded {summary.tenants} tenants, {summary.services} services, "
        f"{summary.customers} customers, {summary.vehicles} vehicles, "
        f"{summary.bookings} bookings, {summary.documents} documents"
    )


def _print_seed(message: str) -> None:
    print(message, file=sys.stderr)


def cmd_seed(args: argparse.Namespace, settings: Settings) -> None:
    if not args.demo:
        raise CommandError("only demo data can be seeded: use `tenantgraph seed --demo`")
    upgrade(settings.database_url)
    _print_seed(_seed(settings))


def cmd_token(args: argparse.Namespace, settings: Settings) -> None:
    from identity import tokens
    from resolvers import validation

    if args.kind == "staff":
        tenant = _with_sessions(settings, lambda s: _tenant(s, args.tenant))
        token = tokens.staff_token(
            settings,
            subject=args.subject,
            tenant_id=tenant.id,
            tenant_slug=tenant.slug,
            role=args.role,
        )
    elif args.kind == "subject":
        try:
            email = validation.email("--email", args.email)
        except Exception as exc:
            raise CommandError(str(exc)) from None
        token = tokens.subject_token(settings, email=email)
    else:
        token = tokens.platform_token(settings, subject=args.subject)
    print(token)


def cmd_apikey(args: argparse.Namespace, settings: Settings) -> None:
    if args.apikey_command == "revoke":
        _revoke_api_key(args, settings)
    elif args.apikey_command == "list":
        _list_api_keys(args, settings)
    else:
        _create_api_key(args, settings)


def _revoke_api_key(args: argparse.Namespace, settings: Settings) -> None:
    from authz.kernel import owned_by
    from identity.apikeys import revoke_api_key
    from store.models import ApiKey

    prefix = args.key.removeprefix("tgk_").split("_", 1)[0]

    async def work(sessions: async_sessionmaker[AsyncSession]) -> bool:
        tenant = await _tenant(sessions, args.tenant)
        async with write_transaction(sessions) as tx:
            within = owned_by(ApiKey, tenant.id)
            return await revoke_api_key(tx, tenant=tenant, within=within, prefix=prefix)

    if not _with_sessions(settings, work):
        raise CommandError(f"no live key with prefix {prefix!r} in {args.tenant!r}")
    print(f"revoked {prefix}: refused from the next request on, in every process")


def _list_api_keys(args: argparse.Namespace, settings: Settings) -> None:
    from authz.kernel import owned_by
    from identity.apikeys import list_api_keys
    from store.models import ApiKey

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[Any]:
        tenant = await _tenant(sessions, args.tenant)
        async with sessions() as session:
            return await list_api_keys(session, within=owned_by(ApiKey, tenant.id))

    print(f"{'prefix':<13} {'role':<20} {'created':<20} {'last used':<20} {'revoked':<8} name")
    for key in _with_sessions(settings, work):
        print(
            f"{key.prefix:<13} {key.role:<20} {_when(key.created_at):<20} "
            f"{_when(key.last_used_at):<20} {'yes' if key.revoked_at else 'no':<8} {key.name}"
        )


def _when(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


def _create_api_key(args: argparse.Namespace, settings: Settings) -> None:
    from identity.apikeys import create_api_key

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        tenant = await _tenant(sessions, args.tenant)
        async with write_transaction(sessions) as tx:
            created = await create_api_key(
                tx,
                tenant=tenant,
                role=args.role,
                name=args.name,
                denial_style=DenialStyle(args.denial_style),
            )
        return created.plaintext

    print(_with_sessions(settings, work))
    print("Store this key now: it is shown only once.", file=sys.stderr)


def cmd_schema(_args: argparse.Namespace, settings: Settings) -> None:
    from schema.build import build_schema

    sys.stdout.write(build_schema(settings).as_str() + "\n")


def cmd_policy(args: argparse.Namespace, settings: Settings) -> None:
    from authz.decisions import PLATFORM_DOMAIN, RELATIONS, Authorizer
    from authz.matrix import render_matrix
    from schema.build import build_schema

    authorizer = Authorizer()
    if args.policy_command == "matrix":
        sys.stdout.write(render_matrix(authorizer, build_schema(settings)._schema))
        return
    domain = PLATFORM_DOMAIN
    if args.tenant:
        domain = _with_sessions(settings, lambda s: _tenant(s, args.tenant)).id
    relations = [args.relation] if args.relation else list(RELATIONS)
    for relation in relations:
        answer = authorizer.explain(args.role, domain, args.coordinate, args.action, relation)
        verdict = "ALLOW" if answer.allowed else "DENY"
        rule = ", ".join(answer.rule) if answer.rule else "no policy line matches (deny by default)"
        print(f"{verdict:5}  {args.role} {args.action} {args.coordinate} as {relation}: {rule}")


def cmd_outbox(args: argparse.Namespace, settings: Settings) -> None:
    from privacy.outbox import ConsoleSender, Sender, SmtpSender, deliver

    sender: Sender = SmtpSender.from_settings(settings) if args.send else ConsoleSender(sys.stdout)
    report = _with_sessions(
        settings, lambda s: deliver(s, sender, mark_sent=args.send, recipient=args.to)
    )
    if not args.send:
        print(f"{report.sent} printed; still waiting (--send delivers them)", file=sys.stderr)
        return
    print(
        f"{report.sent} sent, {report.failed} failed, {report.waiting} waiting for another channel",
        file=sys.stderr,
    )


def _parse_now(value: str | None) -> datetime:
    """``--now``: an ISO date or time; without a zone it is UTC."""
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--now {value!r} is not an ISO date or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_purge(args: argparse.Namespace, settings: Settings) -> None:
    from bookings.holds import purge_expired_drafts
    from privacy.flush import engine_of, flush_erased_pages
    from privacy.retention import PurgeReport, purge

    now = _parse_now(args.now)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> PurgeReport:
        report = await purge(sessions, now=now)
        await flush_erased_pages(engine_of(sessions))
        return report

    report = _with_sessions(settings, work)
    print(
        f"purged {report.documents} documents, {report.one_time_codes} one-time codes, "
        f"{report.outbox_messages} outbox messages, {report.recipient_notices} recipient notices "
        f"(as of {now.isoformat()})"
    )
    drafts = _with_sessions(settings, lambda s: purge_expired_drafts(s, now))
    print(f"purged {drafts} lapsed online booking drafts")


def cmd_erasure(args: argparse.Namespace, settings: Settings) -> None:
    from privacy.journal import ReplayReport, replay_journal

    async def work(sessions: async_sessionmaker[AsyncSession]) -> ReplayReport:
        if not args.journal_from:
            return await replay_journal(sessions, settings)
        journal_engine = create_engine(args.journal_from)
        try:
            return await replay_journal(
                sessions, settings, journal=create_sessionmaker(journal_engine)
            )
        finally:
            await journal_engine.dispose()

    report = _with_sessions(settings, work)
    print(
        f"{report.journal_entries} journal entries ({report.entries_copied} copied), "
        f"{report.customers_checked} customers checked, {report.erased} erased again"
    )
    for receipt in report.receipts:
        print(f"erased again: {receipt.customer_id}")


def cmd_audit(_args: argparse.Namespace, settings: Settings) -> None:
    from audit.trail import all_chains, verify_chain

    async def work(sessions: async_sessionmaker[AsyncSession]) -> bool:
        intact = True
        async with sessions() as session:
            for chain in await all_chains(session):
                report = await verify_chain(session, chain)
                if report.intact:
                    print(f"ok      {chain}: {report.events} events")
                else:
                    intact = False
                    print(
                        f"BROKEN  {chain}: first broken event #{report.first_broken_seq} "
                        f"({report.problem}); {report.events} events read"
                    )
        return intact

    if not _with_sessions(settings, work):
        raise CommandError("the audit trail has been tampered with (see above)")


def cmd_privacy(_args: argparse.Namespace, _settings: Settings) -> None:
    from privacy.record import render_record

    sys.stdout.write(render_record())


def cmd_db(_args: argparse.Namespace, settings: Settings) -> None:
    upgrade(settings.database_url)
    print("database is at the latest revision", file=sys.stderr)


# The object ``add_subparsers`` returns, to which each group below adds its commands.
_Commands = argparse._SubParsersAction


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tenantgraph", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate the database and serve HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo", action="store_true", help="seed demo data on first run")
    serve.set_defaults(handler=cmd_serve)

    seed = commands.add_parser("seed", help="load demo data (once)")
    seed.add_argument("--demo", action="store_true")
    seed.set_defaults(handler=cmd_seed)

    _add_credential_commands(commands)
    _add_schema_and_policy_commands(commands)
    _add_upkeep_commands(commands)
    return parser


def _add_credential_commands(commands: _Commands[argparse.ArgumentParser]) -> None:
    token = commands.add_parser("token", help="print a bearer token signed with the configured key")
    kinds = token.add_subparsers(dest="kind", required=True)
    staff = kinds.add_parser("staff")
    staff.add_argument("--tenant", required=True, help="tenant slug")
    staff.add_argument("--role", required=True, choices=sorted(STAFF_ROLES))
    staff.add_argument("--subject", default="cli-staff", help="the staff member's user id")
    subject = kinds.add_parser("subject")
    subject.add_argument("--email", required=True)
    platform = kinds.add_parser("platform")
    platform.add_argument("--subject", default="cli-platform")
    token.set_defaults(handler=cmd_token)

    apikey = commands.add_parser("apikey", help="partner API keys")
    apikey_commands = apikey.add_subparsers(dest="apikey_command", required=True)
    create = apikey_commands.add_parser("create", help="create a key and print it once")
    create.add_argument("--tenant", required=True)
    create.add_argument("--role", required=True, choices=sorted(PARTNER_ROLES))
    create.add_argument("--name", required=True)
    create.add_argument("--denial-style", default="reject", choices=[s.value for s in DenialStyle])
    revoke = apikey_commands.add_parser("revoke", help="revoke a key at once, in every process")
    revoke.add_argument("--tenant", required=True)
    revoke.add_argument("key", help="the key, or its 12-character prefix")
    listing = apikey_commands.add_parser("list", help="a tenant's keys (never their secrets)")
    listing.add_argument("--tenant", required=True)
    apikey.set_defaults(handler=cmd_apikey)


def _add_schema_and_policy_commands(commands: _Commands[argparse.ArgumentParser]) -> None:
    schema = commands.add_parser("schema", help="the GraphQL schema")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    schema_commands.add_parser("export", help="print the SDL")
    schema.set_defaults(handler=cmd_schema)

    policy = commands.add_parser("policy", help="inspect the authorization policy")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    policy_commands.add_parser("matrix", help="role x field table in Markdown")
    explain = policy_commands.add_parser("explain", help="the decision and the line that made it")
    explain.add_argument("--role", required=True)
    explain.add_argument("--tenant", help="tenant slug (its grants apply); default: platform")
    explain.add_argument(
        "--action",
        default=Action.READ,
        choices=[*(a.value for a in Action), "grant", "hold", "add", "serve"],
        help="read/write a field; grant: the ceiling; hold/add/serve: row rules (rows:...)",
    )
    explain.add_argument("--relation", choices=[r.value for r in Relation])
    explain.add_argument(
        "coordinate",
        help="Type.field, e.g. Customer.email; or a row rule, e.g. rows:Document.kind.INVOICE",
    )
    policy.set_defaults(handler=cmd_policy)


def _add_upkeep_commands(commands: _Commands[argparse.ArgumentParser]) -> None:
    outbox = commands.add_parser("outbox", help="print (or --send) the waiting messages")
    outbox.add_argument(
        "--send", action="store_true", help="deliver email through SMTP and mark it sent"
    )
    outbox.add_argument("--to", metavar="ADDRESS", help="only the messages to this address")
    outbox.set_defaults(handler=cmd_outbox)

    purge = commands.add_parser("purge", help="delete what retention no longer holds")
    purge.add_argument("--now", help="ISO date or time to purge as of (default: now; UTC)")
    purge.set_defaults(handler=cmd_purge)

    erasure = commands.add_parser("erasure", help="erasure maintenance")
    erasure_commands = erasure.add_subparsers(dest="erasure_command", required=True)
    replay = erasure_commands.add_parser(
        "replay", help="erase again the people the journal lists (after restoring a backup)"
    )
    replay.add_argument(
        "--journal-from", help="database URL holding the newer journal (default: this database)"
    )
    erasure.set_defaults(handler=cmd_erasure)

    audit = commands.add_parser("audit", help="the audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser("verify", help="check every hash chain; exit 2 on the first break")
    audit.set_defaults(handler=cmd_audit)

    privacy = commands.add_parser("privacy", help="privacy documentation")
    privacy_commands = privacy.add_subparsers(dest="privacy_command", required=True)
    privacy_commands.add_parser("record", help="the Art. 30 record, from the data map")
    privacy.set_defaults(handler=cmd_privacy)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply all migrations")
    db.set_defaults(handler=cmd_db)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        args.handler(args, settings)
    except (CommandError, SettingsError, ValueError) as exc:
        for line in str(exc).splitlines() or [""]:
            print(f"tenantgraph: {line}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
