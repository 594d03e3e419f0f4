"""Refuses text no column should hold, in every argument, before any resolver runs.

Structured inputs (emails, phones, plates) have validators of their own, but
free text, slugs, search terms and reasons reach the database as given. A NUL
byte or a lone surrogate (a JSON ``"\\ud800"`` escape) cannot be stored or even
sent by the drivers, and control characters and bidirectional overrides make
text display differently from what is stored; and no argument needs more than
``MAX_ARGUMENT_TEXT`` characters (fields have tighter limits of their own). One
check over every argument, literal or variable, answers each with
``BAD_USER_INPUT`` naming the argument (``input.reason``), so no resolver has
to remember it. Where the text sits in a document is found once per document
text; each request then looks only at its variables (and a problem already
found in a literal is reported every time).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
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
from schema.caches import caches_of

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


# Where a document's argument text comes from, in the order the check meets it:
# a problem already found in a literal, (False, path, problem), or a variable
# whose value is looked at on each request, (True, name, path).
Source = tuple[bool, str, str]


class _ArgumentWalker(Visitor):
    """Collects the :data:`Source` list of a document, once per document text."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[Source] = []

    def enter_variable_definition(self, node: VariableDefinitionNode, *_args: Any) -> None:
        # A default written in the document is used when the client sends none.
        if node.default_value is not None:
            self._value(node.default_value, node.variable.name.value)

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        for argument in node.arguments or ():
            self._value(argument.value, argument.name.value)

    def _value(self, value: ValueNode, path: str) -> None:
        if isinstance(value, StringValueNode):
            problem = problem_with(value.value)
            if problem is not None:
                self.sources.append((False, path, problem))
        elif isinstance(value, VariableNode):
            self.sources.append((True, value.name.value, path))
        elif isinstance(value, ObjectValueNode):
            for field in value.fields:
                self._value(field.value, f"{path}.{field.name.value}")
        elif isinstance(value, ListValueNode):
            for item in value.values:
                self._value(item, path)


def argument_sources(document: DocumentNode) -> tuple[Source, ...]:
    """Every argument of the document that holds or may hold text, in visiting order."""
    walker = _ArgumentWalker()
    visit(document, walker)
    return tuple(walker.sources)


def first_problem(sources: tuple[Source, ...], variables: dict[str, Any]) -> tuple[str, str] | None:
    """The first (path, problem) with this request's variables, as the walk would find it."""
    for is_variable, first, second in sources:
        if not is_variable:
            return first, second
        for found in problems_in(variables.get(first), second):
            return found
    return None


class ArgumentTextCheck(SchemaExtension):
    """The check on every request; the document is walked once per text (cached)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            found = first_problem(self._sources(document), context.variables or {})
            if found is not None:
                error = BadUserInput(*found)
                context.result = ExecutionResult(data=None, errors=[error])
        yield

    def _sources(self, document: DocumentNode) -> tuple[Source, ...]:
        context = self.execution_context
        caches = caches_of(context)
        if caches is None or not context.query:
            return argument_sources(document)
        found: tuple[Source, ...] | None = caches.argument_texts.get(context.query)
        if found is None:
            found = argument_sources(document)
            caches.argument_texts.put(context.query, found)
        return found
