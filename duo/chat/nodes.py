"""The two element shapes between the wire encodings and the stanza values.

Both encodings of a frame (XML, and JSON as the xmltodict mapping of the same XML, §2.2) are
read into ``Node`` trees, so the stanzas are recognised once (``duo.chat.inbound``) whatever
the encoding; every outbound stanza is shaped once as an ``Element`` tree
(``duo.chat.outbound``) that each encoding writes mechanically. Plain slotted classes: one
frame builds a handful of them, so they must be cheap.
"""

from __future__ import annotations

from typing import TypeAlias

# No stanza has more than about fifteen elements: a frame with many more is refused before
# a 10 MiB frame of ``<a/>`` can become millions of nodes.
MAX_ELEMENTS = 256

# Between namespace and local name in expanded names: a character no XML text can contain,
# so any namespace URI (even one with spaces) stays intact.
NS_SEPARATOR = "\x01"

# An outbound element's attributes, in the order they are written.
Attrs: TypeAlias = tuple[tuple[str, str], ...]


class Node:
    """A received element: namespace resolved (inherited defaults applied), ``text`` is the
    text before the first child element (what the reference server reads as ``.text``)."""

    __slots__ = ("ns", "name", "attrs", "children", "text")

    def __init__(self, ns: str, name: str, attrs: dict[str, str]) -> None:
        self.ns = ns  # "" = no namespace
        self.name = name  # local name
        self.attrs = attrs  # unprefixed names as is; prefixed ones as uri NS_SEPARATOR name
        self.children: list[Node] = []
        self.text = ""

    def child(self, name: str, ns: str | None = None) -> Node | None:
        """The first direct child with this local name (and namespace, when given)."""
        for node in self.children:
            if node.name == name and (ns is None or node.ns == ns):
                return node
        return None

    def descendants(self) -> list[Node]:
        """Every element below this one in document order (iterative: frames may nest deeply)."""
        found: list[Node] = []
        stack = list(reversed(self.children))
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(reversed(node.children))
        return found


class Element:
    """An element to send, as written: namespace declarations are ordinary ``xmlns``
    attributes in their place; ``spaced`` writes the fixed-text ``<x a="b" />`` form (§6.2)."""

    __slots__ = ("name", "attrs", "children", "text", "spaced")

    def __init__(
        self,
        name: str,
        attrs: Attrs = (),
        children: tuple[Element, ...] = (),
        text: str = "",
        spaced: bool = False,
    ) -> None:
        self.name = name
        self.attrs = attrs
        self.children = children
        self.text = text
        self.spaced = spaced
