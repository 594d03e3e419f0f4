"""The compiled path's defence in depth: every row's reach tag is checked, then removed.

The statement writes each object's JSON with a tag naming its plan, tenant and
subject; ``AnswerWriter.checked`` must refuse any row outside the caller's
reach whatever the SQL's WHERE did, and must read both databases' spelling of
the tag. The plans and decisions here are the real ones: the schema, the
policy files and Casbin.
"""

from __future__ import annotations

import pytest
from graphql import OperationDefinitionNode, parse

from authz.decisions import Authorizer
from basics.principal import Principal, PrincipalKind
from basics.settings import Settings
from resolvers.compiled.access import Access
from resolvers.compiled.answer import AnswerWriter, OutOfReach
from resolvers.compiled.planner import RootPlan, plan_operation
from schema.build import build_schema
from tests.conftest import TEST_SECRET

OWN = "t" * 32
OTHER = "u" * 32
CUSTOMER = "c" * 32
QUERY = '{ booking(id: "x") { reference customer { name } } }'


@pytest.fixture(scope="module")
def authorizer() -> Authorizer:
    return Authorizer()


def _writer_and_plan(
    authorizer: Authorizer, principal: Principal, partner_reads: dict[str, set[str]] | None = None
) -> tuple[AnswerWriter, RootPlan]:
    settings = Settings(database_url="sqlite+aiosqlite:///unused.db", secret_key=TEST_SECRET)
    schema = build_schema(settings)._schema
    operation = parse(QUERY).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    decisions = authorizer.decisions(principal.roles, principal.tenant_id)
    access = Access(principal, decisions, frozenset())
    plan = plan_operation(schema, operation, {}, access)
    return AnswerWriter(access, partner_reads), plan.roots["booking"]


def _staff() -> Principal:
    return Principal(PrincipalKind.STAFF, "staff-1", frozenset({"staff"}), tenant_id=OWN)


def _answer(spaced: bool, booking_tenant: str, customer_tag: str | None = None) -> str:
    if spaced:
        customer = customer_tag or f'1, "{OWN}", "{CUSTOMER}"'
        return (
            f'{{"@r" : [0, "{booking_tenant}", null], "reference" : "AB12-CD34", '
            f'"customer" : {{"@r" : [{customer}], "name" : "Anna"}}}}'
        )
    customer = customer_tag or f'1,"{OWN}","{CUSTOMER}"'
    return (
        f'{{"@r":[0,"{booking_tenant}",null],"reference":"AB12-CD34",'
        f'"customer":{{"@r":[{customer}],"name":"Anna"}}}}'
    )


@pytest.mark.parametrize("spaced", [False, True], ids=["sqlite", "postgresql"])
def test_tags_in_reach_are_removed_and_nothing_else_changes(
    authorizer: Authorizer, spaced: bool
) -> None:
    writer, root = _writer_and_plan(authorizer, _staff())
    checked = writer.checked(root, _answer(spaced, OWN))
    expected = (
        '{"reference" : "AB12-CD34", "customer" : {"name" : "Anna"}}'
        if spaced
        else '{"reference":"AB12-CD34","customer":{"name":"Anna"}}'
    )
    assert checked == expected


@pytest.mark.parametrize("spaced", [False, True], ids=["sqlite", "postgresql"])
def test_a_row_of_another_tenant_is_out_of_reach(authorizer: Authorizer, spaced: bool) -> None:
    writer, root = _writer_and_plan(authorizer, _staff())
    with pytest.raises(OutOfReach):
        writer.checked(root, _answer(spaced, OTHER))
    nested = f'1,"{OTHER}","{CUSTOMER}"' if not spaced else f'1, "{OTHER}", "{CUSTOMER}"'
    writer, root = _writer_and_plan(authorizer, _staff())
    with pytest.raises(OutOfReach):
        writer.checked(root, _answer(spaced, OWN, nested))


@pytest.mark.parametrize(
    "tag",
    [
        '9,"' + OWN + '","' + CUSTOMER + '"',  # no such plan
        '1,"' + OWN + '"',  # a part missing
        '1,"' + OWN + '","' + CUSTOMER + '",7',  # a part too many
        '1,"' + OWN + '",' + '"c-1"',  # not an id
        "x",
    ],
)
def test_a_tag_that_is_not_exactly_a_tag_is_out_of_reach(authorizer: Authorizer, tag: str) -> None:
    writer, root = _writer_and_plan(authorizer, _staff())
    with pytest.raises(OutOfReach):
        writer.checked(root, _answer(False, OWN, tag))


def test_an_unclosed_tag_is_out_of_reach(authorizer: Authorizer) -> None:
    writer, root = _writer_and_plan(authorizer, _staff())
    with pytest.raises(OutOfReach):
        writer.checked(root, '{"@r":[0,"' + OWN + '",null')


def test_a_data_subject_may_not_receive_another_person_s_row(authorizer: Authorizer) -> None:
    subject = Principal(
        PrincipalKind.SUBJECT, "anna@example.dk", frozenset({"subject"}), email="anna@example.dk"
    )
    writer, root = _writer_and_plan(authorizer, subject)
    with pytest.raises(OutOfReach):
        writer.checked(root, _answer(False, OWN))


def test_a_partner_s_reads_are_noted_per_person(authorizer: Authorizer) -> None:
    partner = Principal(
        PrincipalKind.PARTNER, "key-1", frozenset({"partner_reminders"}), tenant_id=OWN
    )
    reads: dict[str, set[str]] = {}
    writer, root = _writer_and_plan(authorizer, partner, reads)
    writer.checked(root, _answer(False, OWN))
    assert reads == {CUSTOMER: {"Customer.name"}}


def test_only_the_callers_whose_check_needs_the_person_get_tags_naming_them(
    authorizer: Authorizer,
) -> None:
    """Staff reach rows by tenant: their tags leave the person out, so a page has a few
    distinct tags to check. A data subject's reach, and a partner's noted reads, need it."""
    subject = Principal(
        PrincipalKind.SUBJECT, "anna@example.dk", frozenset({"subject"}), email="anna@example.dk"
    )
    partner = Principal(
        PrincipalKind.PARTNER, "key-1", frozenset({"partner_reminders"}), tenant_id=OWN
    )
    named = {}
    for name, principal in {"staff": _staff(), "subject": subject, "partner": partner}.items():
        writer, _root = _writer_and_plan(authorizer, principal)
        named[name] = writer.access.tags_subject
    assert named == {"staff": False, "subject": True, "partner": True}
