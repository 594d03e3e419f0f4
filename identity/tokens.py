"""Bearer JWTs (HS256): issuing them from the CLI and turning them into principals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt

from basics.errors import Unauthenticated
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


def principal_from_token(settings: Settings, token: str, denial_style: DenialStyle) -> Principal:
    """Verify signature, issuer, audience and expiry, then map the claims to a principal."""
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
