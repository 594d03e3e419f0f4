"""GraphQL errors with the codes clients rely on (`errors[].extensions.code`, see README)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError


class ServiceError(GraphQLError):
    """An expected error: its message and code are safe to show to the caller."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": self.code, **extensions})


class BadUserInput(ServiceError):
    code = "BAD_USER_INPUT"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}", field=field)
        self.field = field


class NotFound(ServiceError):
    code = "NOT_FOUND"


class Forbidden(ServiceError):
    code = "FORBIDDEN"


class Unauthenticated(ServiceError):
    code = "UNAUTHENTICATED"


class Conflict(ServiceError):
    code = "CONFLICT"


class RateLimited(ServiceError):
    """Too many calls from one client; ``retryAfterSeconds`` says when to try again."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message, retryAfterSeconds=retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds
