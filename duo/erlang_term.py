"""Erlang's external term format: how the chat archive (``mam_message.message``) stores stanzas.

One decoder for every reader of the archive (the data export, report e-mails, chat
history): atoms and binaries become strings (binaries as UTF-8), tuples and lists arrays,
maps objects; compressed terms are inflated first. One encoder for the chat service, which
writes the archive.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

# What a malformed or truncated blob raises while being decoded.
UNDECODABLE = (ValueError, IndexError, struct.error, zlib.error, RecursionError)


def decode_term(data: bytes) -> Any:
    """Decode one term: atoms and binaries become strings (binaries as UTF-8), tuples and
    lists arrays, maps objects; compressed terms are inflated first."""
    if not data or data[0] != 131:
        raise ValueError("not an external term")
    if len(data) > 1 and data[1] == 80:  # COMPRESSED: 4-byte size, zlib stream
        data = b"\x83" + zlib.decompress(data[6:])
    value, end = _term(data, 1)
    if end != len(data):
        raise ValueError("trailing bytes after term")
    return value


def _term(data: bytes, i: int) -> tuple[Any, int]:
    tag = data[i]
    i += 1
    if tag == 97:  # SMALL_INTEGER_EXT
        return data[i], i + 1
    if tag == 98:  # INTEGER_EXT
        return struct.unpack_from(">i", data, i)[0], i + 4
    if tag == 70:  # NEW_FLOAT_EXT
        return struct.unpack_from(">d", data, i)[0], i + 8
    if tag == 99:  # FLOAT_EXT: 31-byte printf text
        return float(data[i : i + 31].split(b"\0", 1)[0]), i + 31
    if tag in (100, 118):  # ATOM_EXT, ATOM_UTF8_EXT
        size = struct.unpack_from(">H", data, i)[0]
        return _text(data, i + 2, size), i + 2 + size
    if tag in (115, 119):  # SMALL_ATOM_EXT, SMALL_ATOM_UTF8_EXT
        size = data[i]
        return _text(data, i + 1, size), i + 1 + size
    if tag in (104, 105):  # SMALL_TUPLE_EXT, LARGE_TUPLE_EXT
        arity, i = (data[i], i + 1) if tag == 104 else (struct.unpack_from(">I", data, i)[0], i + 4)
        return _sequence(data, i, arity)
    if tag == 106:  # NIL_EXT
        return [], i
    if tag == 107:  # STRING_EXT: a list of bytes
        size = struct.unpack_from(">H", data, i)[0]
        return _text(data, i + 2, size), i + 2 + size
    if tag == 108:  # LIST_EXT: elements then a tail, NIL for proper lists
        items, i = _sequence(data, i + 4, struct.unpack_from(">I", data, i)[0])
        tail, i = _term(data, i)
        return items + ([] if tail == [] else [tail]), i
    if tag == 109:  # BINARY_EXT
        size = struct.unpack_from(">I", data, i)[0]
        return _text(data, i + 4, size), i + 4 + size
    if tag == 77:  # BIT_BINARY_EXT: 4-byte size, bits in the last byte
        size = struct.unpack_from(">I", data, i)[0]
        return _text(data, i + 5, size), i + 5 + size
    if tag in (110, 111):  # SMALL_BIG_EXT, LARGE_BIG_EXT
        size, i = (data[i], i + 1) if tag == 110 else (struct.unpack_from(">I", data, i)[0], i + 4)
        sign, digits = data[i], data[i + 1 : i + 1 + size]
        if len(digits) != size:
            raise ValueError("truncated big integer")
        number = int.from_bytes(digits, "little")
        return -number if sign else number, i + 1 + size
    if tag == 116:  # MAP_EXT
        pairs, i = _sequence(data, i + 4, 2 * struct.unpack_from(">I", data, i)[0])
        keys, values = pairs[::2], pairs[1::2]
        if all(isinstance(k, str) for k in keys):
            return dict(zip(keys, values, strict=True)), i
        return [list(p) for p in zip(keys, values, strict=True)], i
    raise ValueError(f"unsupported term tag {tag}")


def _sequence(data: bytes, i: int, count: int) -> tuple[list[Any], int]:
    items = []
    for _ in range(count):
        item, i = _term(data, i)
        items.append(item)
    return items, i


def _text(data: bytes, i: int, size: int) -> str:
    raw = data[i : i + size]
    if len(raw) != size:
        raise ValueError("truncated term")
    return raw.decode("utf-8", errors="replace")


class Atom(str):
    """A string to be encoded as an atom rather than a binary."""


def encode_term(value: Atom | str | tuple[Any, ...] | list[Any]) -> bytes:
    """Encode atoms, strings (as UTF-8 binaries), tuples and lists in the narrow form the
    chat archive writes (ATOM_EXT, BINARY_EXT, SMALL_TUPLE_EXT, LIST_EXT/NIL_EXT)."""
    out = bytearray(b"\x83")
    _encode(value, out)
    return bytes(out)


def _encode(value: Any, out: bytearray) -> None:
    if isinstance(value, Atom):
        raw = value.encode()
        out += struct.pack(">BH", 100, len(raw)) + raw
    elif isinstance(value, str):
        raw = value.encode()
        out += struct.pack(">BI", 109, len(raw)) + raw
    elif isinstance(value, tuple):
        out += struct.pack(">BB", 104, len(value))
        for item in value:
            _encode(item, out)
    elif isinstance(value, list):
        if value:
            out += struct.pack(">BI", 108, len(value))
            for item in value:
                _encode(item, out)
        out.append(106)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as a term")
