"""Data-subject login: a one-time code to an email already on file, then a subject token.

Nobody may learn from this endpoint whether an email belongs to a customer.
``request_login`` therefore takes one path for every well-formed address: it
computes the same hashes, draws and stores a code, renders the message and
runs the same three statements in one transaction (retire older codes, insert
the code, insert the message ``WHERE EXISTS`` a customer with that email).
Only inside the database does the last statement add a row or not; both
transactions write (the code row), so both pay the same commit. Delivery
happens later, outside the request (``privacy.outbox``). The answer is always
``accepted: true``. A code stored for an unknown address was sent nowhere and
expires unused; it also makes ``verify_login`` behave the same for both.

``verify_login`` answers every failure (no code, wrong, expired, used, too many
attempts) with the same ``UNAUTHENTICATED`` message. Only an email identifies
a person: a registration number or VIN is public and never enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

from authz.kernel import require
from basics.errors import BadUserInput, Unauthenticated
from identity.tokens import subject_token
from privacy import codes, outbox
from resolvers import validation
from resolvers.address_limits import code_limit, limit_by_address
from resolvers.context import RequestContext
from store.engine import write_transaction

INVALID_CODE_MESSAGE = "the email and code do not match a valid one-time code"


def require_allowed(ctx: RequestContext, mutation: str) -> None:
    """The write decision again where the work happens (the static check made it first)."""
    require(ctx.principal, ctx.decisions, f"Mutation.{mutation}")


async def request_login(ctx: RequestContext, email: str) -> None:
    """Send a login code if ``email`` is on file; look exactly the same if it is not."""
    require_allowed(ctx, "requestSubjectLogin")
    await limit_by_address(ctx, "requestSubjectLogin", code_limit(ctx))
    address = validation.email("email", email)
    signing_key = ctx.settings.signing_key()
    target = codes.address_key(signing_key, codes.EMAIL, address)
    async with write_transaction(ctx.sessions) as tx:
        _row, code = await codes.issue(tx, signing_key, purpose=codes.LOGIN, target_key=target)
        subject, body = codes.message(codes.LOGIN, code)
        await outbox.enqueue_if_customer_email(tx, outbox.EMAIL, address, subject, body)


@dataclass(frozen=True)
class SubjectSession:
    token: str
    expires_at: datetime


async def verify_login(ctx: RequestContext, email: str, code: str) -> SubjectSession:
    """Trade a valid code for a short-lived subject token for that email."""
    require_allowed(ctx, "verifySubjectLogin")
    await limit_by_address(ctx, "verifySubjectLogin", code_limit(ctx))
    address = validation.email("email", email)
    given = codes.normalise_code(code)
    if given is None:
        raise BadUserInput("code", f"must be the {codes.CODE_DIGITS} digits from the message")
    signing_key = ctx.settings.signing_key()
    async with write_transaction(ctx.sessions) as tx:
        redeemed = await codes.redeem(
            tx,
            signing_key,
            purposes=(codes.LOGIN,),
            target_key=codes.address_key(signing_key, codes.EMAIL, address),
            code=given,
        )
    # Raised after the commit, so a wrong guess is counted.
    if redeemed is None:
        raise Unauthenticated(INVALID_CODE_MESSAGE)
    token = subject_token(ctx.settings, email=address)
    # Our own token, just signed: read its expiry instead of recomputing it.
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    return SubjectSession(token=token, expires_at=datetime.fromtimestamp(expires, UTC))
