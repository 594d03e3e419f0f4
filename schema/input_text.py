"""Refuses text no column should hold, in every argument, before any resolver runs.

Structured inputs (emails, phones, plates) have validators of their own, but
free text, slugs, search terms and reasons reach the database as given. A NUL
byte or a lone surrogate (a JSON ``"\\ud800"`` escape) cannot be stored or even
sent by the drivers, and control characters and bidirectional overrides make
text display differently from what is stored; and no argument needs more than
``MAX_ARGUMENT_TEXT`` characters (fields have tighter limits of their own). One
check over every argument, literal or variable, answers each with
``BAD_USER_INPUT`` naming the argument (``input.reason``), so no resolver has
to remember it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    ListValueNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

from basics.errors import BadUserInput
from resolvers.validation import has_unsafe_characters

MAX_ARGUMENT_TEXT = 10_000
UNSAFE = "contains a control character, a lone surrogate or a bidirectional override"
TOO_LONG = f"must be at most {MAX_ARGUMENT_TEXT} characters"


def problem_with(text: str) -> str | None:
    if len(text) > MAX_ARGUMENT_TEXT:
        return TOO_LONG
    if has_unsafe_characters(text):
        return UNSAFE
    return None


def problems_in(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, problem) for the text inside already-parsed variable data."""
    if isinstance(value, str):
        problem = problem_with(value)
        if problem is not None:
            yield path, problem
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from problems_in(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from problems_in(item, path)


class _ArgumentWalker(Visitor):
    def __init__(self, variables: dict[str, Any]) -> None:
        super().__init__()
        self.variables = variables
        self.found: list[tuple[str, str]] = []

    def enter_variable_definition(self, node: VariableDefinitionNode, *_args: Any) -> None:
        # A default written in the document is used when the client sends none.
        if node.default_value is not None:
            self.found.extend(self._value(node.default_value, node.variable.name.value))

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        for argument in node.arguments or ():
            self.found.extend(self._value(argument.value, argument.name.value))

    def _value(self, value: ValueNode, path: str) -> Iterator[tuple[str, str]]:
        if isinstance(value, StringValueNode):
            problem = problem_with(value.value)
            if problem is not None:
                yield path, problem
        elif isinstance(value, VariableNode):
            yield from problems_in(self.variables.get(value.name.value), path)
        elif isinstance(value, ObjectValueNode):
            for field in value.fields:
                yield from self._value(field.value, f"{path}.{field.name.value}")
        elif isinstance(value, ListValueNode):
            for item in value.values:
                yield from self._value(item, path)


class ArgumentTextCheck(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        if document is not None and self.execution_context.result is None:
            walker = _ArgumentWalker(dict(self.execution_context.variables or {}))
            visit(document, walker)
            if walker.found:
                error = BadUserInput(*walker.found[0])
                self.execution_context.result = ExecutionResult(data=None, errors=[error])
        yield
