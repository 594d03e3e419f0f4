"""Bearer JWTs (HS256): issuing them from the CLI and turning them into principals."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from basics.errors import Unauthenticated
from basics.lru import LRU
from basics.principal import (
    PARTNER_ROLES,
    PLATFORM_ROLE,
    STAFF_ROLES,
    SUBJECT_ROLE,
    DenialStyle,
    Principal,
    PrincipalKind,
)
from basics.settings import Settings
from store.types import utcnow

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
VERIFIED_TOKENS = 4096


def issue_token(settings: Settings, claims: dict[str, Any], lifetime: timedelta) -> str:
    now = utcnow()
    payload = {
        **claims,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(payload, settings.signing_key(), algorithm=ALGORITHM)


def staff_token(
    settings: Settings, *, subject: str, tenant_id: str, tenant_slug: str, role: str
) -> str:
    if role not in STAFF_ROLES:
        raise ValueError(f"unknown staff role {role!r}; choose one of {sorted(STAFF_ROLES)}")
    return issue_token(
        settings,
        {"sub": subject, "tid": tenant_id, "tenant": tenant_slug, "roles": [role]},
        timedelta(minutes=settings.staff_token_minutes),
    )


def subject_token(settings: Settings, *, email: str) -> str:
    return issue_token(
        settings,
        {"sub": email, "email": email, "email_verified": True, "roles": [SUBJECT_ROLE]},
        timedelta(minutes=settings.subject_token_minutes),
    )


def platform_token(settings: Settings, *, subject: str = "platform") -> str:
    return issue_token(
        settings,
        {"sub": subject, "roles": [PLATFORM_ROLE]},
        timedelta(minutes=settings.staff_token_minutes),
    )


@dataclass(frozen=True)
class _Verified:
    """A token whose signature, issuer, audience and claims were checked once.

    Only the times are kept to check again: they are all that changes.
    """

    principal: Principal
    expires: int
    issued: int
    not_before: int | None


# Keyed by (token, key, issuer, audience, denial style): a token verified under
# another key, issuer or audience is verified afresh, so a changed key never
# lets an old token through, and a token signed with another key never enters.
VERIFIED: LRU[_Verified] = LRU(maxsize=VERIFIED_TOKENS)


def principal_from_token(settings: Settings, token: str, denial_style: DenialStyle) -> Principal:
    """Verify signature, issuer, audience and expiry, then map the claims to a principal.

    The signature is verified once per token (a bounded cache of verified
    tokens); the key is looked up and the expiry and not-before times are
    checked on every request, so a cached token stops working when it expires.
    """
    key = (token, settings.signing_key(), settings.jwt_issuer, settings.jwt_audience, denial_style)
    verified = VERIFIED.get(key)
    if verified is None:
        verified = _verify(settings, token, denial_style)
        VERIFIED.put(key, verified)
    now = time.time()
    if verified.expires <= now:
        raise Unauthenticated("token has expired")
    if verified.issued > now or (verified.not_before is not None and verified.not_before > now):
        raise Unauthenticated("token is not valid")
    return verified.principal


def _verify(settings: Settings, token: str, denial_style: DenialStyle) -> _Verified:
    try:
        claims = jwt.decode(
            token,
            settings.signing_key(),
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("token has expired") from None
    except jwt.InvalidTokenError:
        raise Unauthenticated("token is not valid") from None
    not_before = claims.get("nbf")
    return _Verified(
        principal=_principal(claims, denial_style),
        # PyJWT has checked that these are integers (or convert to them).
        expires=int(claims["exp"]),
        issued=int(claims["iat"]),
        not_before=None if not_before is None else int(not_before),
    )


def _principal(claims: dict[str, Any], denial_style: DenialStyle) -> Principal:
    """The principal the verified claims describe (or why they describe none)."""
    roles = claims.get("roles")
    subject = claims.get("sub")
    if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
        raise Unauthenticated("token has no roles")
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("token has no subject")
    role_set = frozenset(roles)
    if role_set <= STAFF_ROLES:
        tenant_id, slug = claims.get("tid"), claims.get("tenant")
        if not isinstance(tenant_id, str) or not isinstance(slug, str):
            raise Unauthenticated("staff token has no tenant")
        return Principal(
            kind=PrincipalKind.STAFF,
            subject=subject,
            roles=role_set,
            tenant_id=tenant_id,
            tenant_slug=slug,
            denial_style=denial_style,
        )
    if role_set == {SUBJECT_ROLE}:
        email = claims.get("email")
        if not isinstance(email, str) or claims.get("email_verified") is not True:
            raise Unauthenticated("subject token has no verified email")
        return Principal(
            kind=PrincipalKind.SUBJECT,
            subject=subject,
            roles=role_set,
            email=email.lower(),
            denial_style=denial_style,
        )
    if role_set == {PLATFORM_ROLE}:
        return Principal(
            kind=PrincipalKind.PLATFORM, subject=subject, roles=role_set, denial_style=denial_style
        )
    if role_set & PARTNER_ROLES:
        raise Unauthenticated("partner roles authenticate with an API key")
    raise Unauthenticated("token has an unknown role")
