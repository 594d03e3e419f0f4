"""How deep and how aliased a parsed document is, measured before validation.

The document has not been validated yet when these run, so fragment spreads
may name missing fragments or form cycles: both are followed at most once per
path, and the depth walk stops as soon as the limit is passed.
"""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    visit,
)


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _depth(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    above: int,
    limit: int,
    seen: frozenset[str],
) -> int:
    """Levels of fields below ``selection_set`` (introspection fields not counted)."""
    deepest = 0
    for selection in selection_set.selections:
        if above + deepest > limit:
            break
        if isinstance(selection, FieldNode):
            if selection.selection_set is None or selection.name.value.startswith("__"):
                continue
            below = _depth(selection.selection_set, fragments, above + 1, limit, seen)
            deepest = max(deepest, 1 + below)
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, above, limit, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                inner = _depth(fragment.selection_set, fragments, above, limit, seen | {name})
                deepest = max(deepest, inner)
    return deepest


def operation_depth(document: DocumentNode, limit: int) -> int:
    """The deepest operation's depth; once past ``limit`` the walk stops (cheap on abuse)."""
    fragments = fragments_of(document)
    return max(
        (
            _depth(d.selection_set, fragments, 0, limit, frozenset())
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
        ),
        default=0,
    )


class _AliasCounter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        if node.alias is not None:
            self.count += 1


def alias_count(document: DocumentNode) -> int:
    """Aliases written anywhere in the document, fragments included."""
    counter = _AliasCounter()
    visit(document, counter)
    return counter.count
