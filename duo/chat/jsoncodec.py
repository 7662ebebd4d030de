"""JSON mode (chat-protocol.md §2.2): the xmltodict mapping of the same XML stanzas.

Inbound, the reference server turns the object into XML and parses that; here the object is
read straight into the ``Node`` tree that XML would have produced, refusing exactly what
would have made that XML ill-formed (bad names, unbound prefixes, characters XML cannot
carry, several roots), so both modes accept the same stanzas. Outbound, an ``Element`` is
written the way xmltodict reads the XML: attributes as ``@`` keys, text-only children as
strings, empty ones as null, ASCII-only with ``", "``/``": "`` separators.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from duo.chat.nodes import MAX_ELEMENTS, NS_SEPARATOR, Element, Node
from duo.chat.stanzas import Ignorable

_NAME_START = (
    "A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_NAME_CHAR = _NAME_START + r"\-.0-9\u00b7\u0300-\u036f\u203f\u2040"
_QNAME = re.compile(f"(?:([{_NAME_START}][{_NAME_CHAR}]*):)?([{_NAME_START}][{_NAME_CHAR}]*)")
# Characters outside XML 1.0's Char production: the generated XML would not parse.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Prefix -> namespace in force at the root: no default namespace, ``xml`` predefined.
_ROOT_SCOPE = {"": "", "xml": "http://www.w3.org/XML/1998/namespace"}


class _Invalid(Exception):
    """The object maps to XML that does not parse: the frame is ignored."""


@functools.lru_cache(maxsize=1024)
def _qname(name: str) -> tuple[str, str] | None:
    """(prefix, local) of a valid XML name; keys repeat across frames, so this is cached."""
    match = _QNAME.fullmatch(name)
    return (match.group(1) or "", match.group(2)) if match else None


def _scalar(value: object) -> str:
    """A JSON scalar as the reference's XML generator writes it (None = empty)."""
    if isinstance(value, str):
        if _NOT_XML.search(value):
            raise _Invalid("character not allowed in XML")
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise _Invalid("object or array where a value is due")


def read_json(frame: str) -> Node | Ignorable:
    """The frame's root element, or why the frame is ignored (invalid JSON, not an object,
    not exactly one key, or no XML equivalent)."""
    try:
        value = json.loads(frame)
    except (ValueError, RecursionError):
        return Ignorable("not JSON")
    if not isinstance(value, dict):
        return Ignorable("not a JSON object")
    if len(value) != 1:
        return Ignorable("not exactly one top-level key")
    ((name, content),) = value.items()
    if isinstance(content, list):
        return Ignorable("more than one root element")
    try:
        return _tree(name, content)
    except _Invalid as invalid:
        return Ignorable(str(invalid))


def _tree(name: str, content: Any) -> Node:
    """Build the tree iteratively (a frame may nest as deep as the JSON parser allows)."""
    root, scope = _node(name, content, _ROOT_SCOPE)
    work = [(root, content, scope)]
    count = 1
    while work:
        parent, parent_content, scope = work.pop()
        if not isinstance(parent_content, dict):
            continue
        for key, item in parent_content.items():
            if key.startswith("@") or key == "#text":
                continue
            for one in item if isinstance(item, list) else (item,):
                if isinstance(one, list):
                    raise _Invalid("array inside an array")
                count += 1
                if count > MAX_ELEMENTS:
                    raise _Invalid("too many elements")
                child, child_scope = _node(key, one, scope)
                parent.children.append(child)
                work.append((child, one, child_scope))
    return root


def _node(name: str, content: Any, scope: dict[str, str]) -> tuple[Node, dict[str, str]]:
    """One element from its key and value, with the namespace scope its children inherit:
    declarations first, then its name, attributes and text (xmltodict writes ``#text``
    after the children, so with children it is a tail, not the element's text)."""
    attrs: dict[str, str] = {}
    text = ""
    if isinstance(content, dict):
        declared = [key for key in content if key == "@xmlns" or key.startswith("@xmlns:")]
        if declared:
            scope = dict(scope)
            for key in declared:
                uri = _scalar(content[key])
                prefix = key[7:]
                if prefix and (not uri or _qname(prefix) != ("", prefix)):
                    raise _Invalid("bad namespace declaration")
                scope[prefix] = uri
        has_children = False
        for key, item in content.items():
            if key == "#text":
                text = _scalar(item)
            elif key.startswith("@"):
                if key not in declared:
                    attrs[_attribute_name(key[1:], scope)] = _scalar(item)
            elif item != []:  # an empty array writes no element
                has_children = True
        if has_children:
            text = ""
    else:
        text = _scalar(content)
    qname = _qname(name)
    if qname is None:
        raise _Invalid("not an XML element name")
    prefix, local = qname
    if prefix not in scope:
        raise _Invalid("unbound namespace prefix")
    node = Node(scope[prefix], local, attrs)
    node.text = text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text
    return node, scope


def _attribute_name(name: str, scope: dict[str, str]) -> str:
    """Attribute names as expat reports them: unprefixed as is, prefixed with their URI."""
    qname = _qname(name)
    if qname is None:
        raise _Invalid("not an XML attribute name")
    prefix, local = qname
    if not prefix:
        return local
    if prefix not in scope:
        raise _Invalid("unbound namespace prefix")
    return scope[prefix] + NS_SEPARATOR + local


def write_json(element: Element) -> str:
    """The element as one JSON frame."""
    return json.dumps({element.name: _value(element)})


def _value(element: Element) -> dict[str, Any] | str | None:
    if not element.attrs and not element.children:
        return element.text.strip() or None
    value: dict[str, Any] = {"@" + name: text for name, text in element.attrs}
    for child in element.children:
        item = _value(child)
        if child.name not in value:
            value[child.name] = item
        elif isinstance(value[child.name], list):
            value[child.name].append(item)
        else:
            value[child.name] = [value[child.name], item]
    text = element.text.strip()
    if text:
        value["#text"] = text
    return value
