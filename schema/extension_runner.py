"""Strawberry's extension runner, with each hook looked up once per class.

Strawberry finds an extension's hooks anew for every phase of every request:
it inspects the method, then wraps it with ``contextlib.contextmanager``
(which copies the function's name and docstring each time). Under load that
was about a tenth of a lookup by id. The extensions are the same classes on
every request, so what kind of hook each class has, and its context-manager
factory, are found once; each request only binds them to its own extension
instances. The hooks still run in the same order, as context managers on the
same exit stacks, so every extension sees exactly what it saw before.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

# A hook of one extension class: a factory taking the extension instance, and
# whether it is entered with ``async with``.
_Hook = tuple[Callable[[SchemaExtension], Any], bool]

_HOOKS: dict[tuple[type[SchemaExtension], str], _Hook | None] = {}


def _plain_hook(function: Callable[[SchemaExtension], Any]) -> _Hook:
    """A hook that is a plain (or coroutine) function, run on entry as Strawberry does."""
    if inspect.iscoroutinefunction(function):

        @contextlib.asynccontextmanager
        async def run_async(extension: SchemaExtension) -> AsyncIterator[None]:
            await function(extension)
            yield

        return run_async, True

    @contextlib.contextmanager
    def run(extension: SchemaExtension) -> Iterator[None]:
        function(extension)
        yield

    return run, False


def _class_hook(kind: type[SchemaExtension], name: str) -> _Hook | None:
    """What Strawberry's ``get_hook`` would build, as a factory for any instance."""
    function = getattr(kind, name)
    if function is getattr(SchemaExtension, name):
        return None
    if inspect.isgeneratorfunction(function):
        return contextlib.contextmanager(function), False
    if inspect.isasyncgenfunction(function):
        return contextlib.asynccontextmanager(function), True
    if callable(function):
        return _plain_hook(function)
    raise ValueError(f"Hook {name} on {kind} must be callable, received {function!r}")


class _CachedHooks(ExtensionContextManagerBase):
    __slots__ = ()

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        key = (type(extension), self.HOOK_NAME)
        try:
            found = _HOOKS[key]
        except KeyError:
            found = _HOOKS[key] = _class_hook(*key)
        if found is None:
            return None
        factory, is_async = found
        return WrappedHook(extension, functools.partial(factory, extension), is_async)


class _Operation(_CachedHooks, OperationContextManager):
    __slots__ = ()


class _Validation(_CachedHooks, ValidationContextManager):
    __slots__ = ()


class _Parsing(_CachedHooks, ParsingContextManager):
    __slots__ = ()


class _Executing(_CachedHooks, ExecutingContextManager):
    __slots__ = ()


class CachedHooksRunner(SchemaExtensionsRunner):
    """The phases of one request, with the hooks each extension class has found once."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)
