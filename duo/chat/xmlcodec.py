"""XML mode (chat-protocol.md §2.1): read one frame safely, write an element exactly.

Reading uses the stdlib expat parser directly (one parser per frame, no tree library): a
frame with a DTD is refused before any declaration is read, so no entity can be defined or
expanded and nothing is fetched; a declared encoding is refused too, as the reference
parser refuses it on text input. Writing produces the reference bytes: double-quoted
attributes, ``<x/>`` for empty elements, literal UTF-8, and every value escaped.
"""

from __future__ import annotations

from xml.parsers import expat

from duo.chat.nodes import MAX_ELEMENTS, NS_SEPARATOR, Element, Node
from duo.chat.stanzas import Ignorable


class _Refused(Exception):
    """Raised from a parser callback to stop at a construct the chat never accepts."""


class _TreeBuilder:
    """Collects expat's callbacks into ``Node``s; text is gathered in parts (a large body
    arrives in many chunks) and joined when its element ends."""

    __slots__ = ("stack", "parts", "root", "count")

    def __init__(self) -> None:
        self.stack: list[Node] = []
        self.parts: list[list[str]] = []
        self.root: Node | None = None
        self.count = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.count += 1
        if self.count > MAX_ELEMENTS:
            raise _Refused("too many elements")
        ns, _, local = name.rpartition(NS_SEPARATOR)
        node = Node(ns, local, attrs)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)
        self.parts.append([])

    def end(self, name: str) -> None:
        self.stack.pop().text = "".join(self.parts.pop())

    def characters(self, data: str) -> None:
        if self.stack and not self.stack[-1].children:
            self.parts[-1].append(data)


def _refuse_doctype(*_: object) -> None:
    raise _Refused("a DTD is not accepted")


def _check_declaration(version: str, encoding: str | None, standalone: int) -> None:
    if encoding is not None:
        raise _Refused("an XML declaration naming an encoding is not accepted")


def read_xml(frame: str) -> Node | Ignorable:
    """The frame's root element, or why the frame is ignored (§2.1: unparseable = ignored)."""
    builder = _TreeBuilder()
    parser = expat.ParserCreate(namespace_separator=NS_SEPARATOR)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.XmlDeclHandler = _check_declaration
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.characters
    try:
        parser.Parse(frame, True)
    except expat.ExpatError as error:
        return Ignorable(f"not well-formed XML: {error}")
    except _Refused as refused:
        return Ignorable(str(refused))
    except UnicodeEncodeError:
        return Ignorable("lone surrogate in frame")
    if builder.root is None:
        return Ignorable("no element")
    return builder.root


_ATTRIBUTE_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;",
     "\t": "&#9;"}
)
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def write_xml(element: Element) -> str:
    """The element as one XML frame."""
    parts: list[str] = []
    _write(element, parts)
    return "".join(parts)


def _write(element: Element, parts: list[str]) -> None:
    parts.append("<" + element.name)
    for name, value in element.attrs:
        parts.append(f' {name}="{value.translate(_ATTRIBUTE_ESCAPES)}"')
    if not element.children and not element.text:
        parts.append(" />" if element.spaced else "/>")
        return
    parts.append(">")
    parts.append(element.text.translate(_TEXT_ESCAPES))
    for child in element.children:
        _write(child, parts)
    parts.append(f"</{element.name}>")
