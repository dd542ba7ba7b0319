"""WAF's text transformations: the normalising a statement applies before it inspects.

Each of the API's 31 ``TextTransformationType`` values is one function from text to text.
Text follows the engine's convention (see ``fields._text``): a request's bytes decoded as
UTF-8 with ``surrogateescape``, so a byte that is not UTF-8 survives as a lone surrogate and
encoding back gives the exact bytes. Decoders that yield bytes (URL, Base64, hex, escapes)
work on those bytes and hand them back the same way, so nothing is lost and a later byte
search or size constraint sees what WAF would see.

Sources: developer guide, "Text transformation options"
(https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-transformation.html)
and the API reference's TextTransformation (the 21 older types' descriptions). WAF's names
and descriptions follow ModSecurity's transformation functions (the same sentences, in
places); where AWS's text is short, the details follow ModSecurity's reference manual, and
each such function says so. The ten types added in 2025 (REMOVE_WHITESPACE ... SHA256) have
no description in the material available offline: they are models, marked as such.

MD5 and SHA256 produce the raw binary digest, as the API says ("in a raw binary form"): 16
or 32 bytes carried as text by the convention above, so a ByteMatch whose SearchString is
the raw digest matches, and a size constraint sees 16 or 32.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence

from grader.aws.errors import GraderError

# --- text <-> bytes ---------------------------------------------------------------------------


def _b(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")


def _t(raw: bytes) -> str:
    return raw.decode("utf-8", errors="surrogateescape")


_HEX = frozenset(b"0123456789abcdefABCDEF")
_OCT = frozenset(b"01234567")


def _is_hex(raw: bytes) -> bool:
    return bool(raw) and all(c in _HEX for c in raw)


class WafTransformError(GraderError):
    """A TextTransformation type WAF does not have (its ValidationException)."""

    code = "ValidationException"


# --- whitespace, case, nulls ------------------------------------------------------------------

# COMPRESS_WHITE_SPACE's set (API reference): \f \t \n \r \v and non-breaking space (160).
# 160 is both U+00A0 (UTF-8 text) and a lone 0xA0 byte (kept as a surrogate, see above).
_COMPRESS_SET = "\f\t\n\r\v\xa0\udca0"
_COMPRESS_TABLE = str.maketrans(dict.fromkeys(_COMPRESS_SET, " "))
_SPACES = re.compile(" {2,}")


def _compress_white_space(text: str) -> str:
    return _SPACES.sub(" ", text.translate(_COMPRESS_TABLE))


# LOWERCASE / UPPERCASE change A-Z / a-z only (the docs' wording), not other letters.
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")

# REMOVE_WHITESPACE and TRIM*: model (no AWS description offline). ModSecurity's
# removeWhitespace/trim use C isspace() plus, for removeWhitespace, non-breaking space;
# we use COMPRESS_WHITE_SPACE's set plus the space itself for both.
_WHITESPACE = " " + _COMPRESS_SET


def _remove_whitespace(text: str) -> str:
    return "".join(c for c in text if c not in _WHITESPACE)


# --- command lines ----------------------------------------------------------------------------

_BEFORE_SLASH_PAREN = re.compile(" +(?=[/(])")


def _cmd_line(text: str, *, delete: str = "\\\"'^", lower: bool = True) -> str:
    """CMD_LINE's five steps, in the order the docs list them: delete \\ " ' ^; delete
    spaces before / and ( (done after the comma/semicolon step too, so "a, /b" ends as
    "a/b"); , and ; become spaces; runs of spaces become one; A-Z to lower case."""
    text = text.translate(str.maketrans("", "", delete))
    text = text.replace(",", " ").replace(";", " ")
    text = _SPACES.sub(" ", text)
    text = _BEFORE_SLASH_PAREN.sub("", text)
    return text.translate(_LOWER) if lower else text


def _cmd_line_win(text: str) -> str:
    # Model (no AWS description offline): cmd.exe's escape is ^ and it ignores "" pairs,
    # and its commands are case-insensitive; the backslash is its path separator, so it
    # becomes / (like NORMALIZE_PATH_WIN) instead of being deleted.
    return _cmd_line(text.replace("\\", "/"), delete="\"'^")


def _cmd_line_unix(text: str) -> str:
    # Model (no AWS description offline): a POSIX shell's quoting and escaping are
    # \\ " ' (^ means nothing to it), and its commands are case-sensitive, so no lower-casing.
    return _cmd_line(text, delete="\\\"'", lower=False)


# --- comments ---------------------------------------------------------------------------------


def _replace_comments(text: str) -> str:
    """Each /* ... */ becomes one space (an unterminated one too); a lone */ stays."""
    out: list[str] = []
    i = 0
    while True:
        start = text.find("/*", i)
        if start < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:start] + " ")
        end = text.find("*/", start + 2)
        if end < 0:
            return "".join(out)
        i = end + 2


# REMOVE_COMMENTS_CHAR: model after ModSecurity's removeCommentsChar ("removes common
# comments chars (/*, */, --, #)"); no AWS description offline.
_COMMENT_CHARS = re.compile(r"/\*|\*/|--|#")


# --- HTML entities ----------------------------------------------------------------------------

# The named entities the docs list (quot, nbsp, lt, gt), plus amp, which ModSecurity's
# htmlEntityDecode (whose list WAF's follows) also decodes.
_NAMED_ENTITIES = {"quot": '"', "nbsp": "\xa0", "lt": "<", "gt": ">", "amp": "&"}
_ENTITY = re.compile(r"&(?:#[xX]([0-9a-fA-F]+)|#([0-9]+)|([a-zA-Z]+));")


def _entity(match: re.Match) -> str:
    hex_digits, dec_digits, name = match.groups()
    if name is not None:
        return _NAMED_ENTITIES.get(name.lower(), match.group(0))
    code = int(hex_digits, 16) if hex_digits is not None else int(dec_digits)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return match.group(0)  # not a character: left as it is
    return chr(code)


def _html_entity_decode(text: str) -> str:
    return _ENTITY.sub(_entity, text)


# --- URL, JavaScript and CSS decoding ---------------------------------------------------------


def _wide_low_byte(code: int) -> int:
    """The byte a %uHHHH or \\uHHHH escape decodes to (API reference, URL_DECODE_UNI and
    JS_DECODE): in the full-width ASCII range FF01-FF5E the high byte "adjusts" the low one
    (FF21, full-width A, becomes A: low byte + 0x20); otherwise only the low byte is kept."""
    if 0xFF01 <= code <= 0xFF5E:
        return (code & 0xFF) + 0x20
    return code & 0xFF


def _url_decode_bytes(raw: bytes, *, uni: bool) -> bytes:
    # %HH to a byte and + to a space (form encoding, as ModSecurity's urlDecode); a % not
    # followed by two hex digits stays as it is.
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == 0x25:  # %
            wide = raw[i + 2 : i + 6]
            if uni and raw[i + 1 : i + 2] in (b"u", b"U") and len(wide) == 4 and _is_hex(wide):
                out.append(_wide_low_byte(int(wide, 16)))
                i += 6
                continue
            if len(raw[i + 1 : i + 3]) == 2 and _is_hex(raw[i + 1 : i + 3]):
                out.append(int(raw[i + 1 : i + 3], 16))
                i += 3
                continue
        out.append(0x20 if c == 0x2B else c)  # + is a space
        i += 1
    return bytes(out)


# ESCAPE_SEQ_DECODE and JS_DECODE share the single-letter C escapes.
_C_ESCAPES = {
    ord("a"): 0x07,
    ord("b"): 0x08,
    ord("f"): 0x0C,
    ord("n"): 0x0A,
    ord("r"): 0x0D,
    ord("t"): 0x09,
    ord("v"): 0x0B,
    ord("\\"): 0x5C,
    ord("?"): 0x3F,
    ord("'"): 0x27,
    ord('"'): 0x22,
}


def _octal_run(raw: bytes, start: int) -> int:
    """How many octal digits (at most three, value at most 0o377) begin at ``start``."""
    j = start
    while j < len(raw) and j - start < 3 and raw[j] in _OCT:
        j += 1
    while j > start and int(raw[start:j], 8) > 0o377:
        j -= 1
    return j - start


def _escape_seq_decode(raw: bytes) -> bytes:
    """ANSI C escapes: \\a \\b \\f \\n \\r \\t \\v \\\\ \\? \\' \\" \\xHH and octal
    (\\0OOO in the docs: ModSecurity's escapeSeqDecode reads one to three octal digits).
    An escape that is not valid stays in the output, backslash and all."""
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == 0x5C and i + 1 < n:
            nxt = raw[i + 1]
            if nxt in _C_ESCAPES:
                out.append(_C_ESCAPES[nxt])
                i += 2
                continue
            if nxt in (0x78, 0x58) and len(raw[i + 2 : i + 4]) == 2 and _is_hex(raw[i + 2 : i + 4]):
                out.append(int(raw[i + 2 : i + 4], 16))
                i += 4
                continue
            digits = _octal_run(raw, i + 1)
            if digits:
                out.append(int(raw[i + 1 : i + 1 + digits], 8))
                i += 1 + digits
                continue
        out.append(c)
        i += 1
    return bytes(out)


def _js_decode(raw: bytes, *, ext: bool = False) -> bytes:
    """JavaScript escapes (ModSecurity's jsDecode, as the API describes JS_DECODE): \\uHHHH
    to one byte (see :func:`_wide_low_byte`), \\xHH, octal, the C letters; any other
    escaped character is itself (\\q is q).

    ``ext`` is JS_DECODE_EXT, a model (no AWS description offline): it also reads ES2015's
    \\u{H...} and keeps the whole code point (as UTF-8) instead of the low byte, which is
    what an "extended" decoder would add against evasion with wide characters."""
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c != 0x5C or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        nxt = raw[i + 1]
        if nxt in (0x75, 0x55):  # u
            if ext and raw[i + 2 : i + 3] == b"{":
                end = raw.find(b"}", i + 3)
                digits = raw[i + 3 : end] if end > 0 else b""
                if _is_hex(digits) and len(digits) <= 6 and int(digits, 16) <= 0x10FFFF:
                    out += _b(chr(int(digits, 16)))
                    i = end + 1
                    continue
            if len(raw[i + 2 : i + 6]) == 4 and _is_hex(raw[i + 2 : i + 6]):
                code = int(raw[i + 2 : i + 6], 16)
                out += _b(chr(code)) if ext else bytes([_wide_low_byte(code)])
                i += 6
                continue
        if nxt in (0x78, 0x58) and len(raw[i + 2 : i + 4]) == 2 and _is_hex(raw[i + 2 : i + 4]):
            out.append(int(raw[i + 2 : i + 4], 16))
            i += 4
            continue
        digits = _octal_run(raw, i + 1)
        if digits:
            out.append(int(raw[i + 1 : i + 1 + digits], 8))
            i += 1 + digits
            continue
        out.append(_C_ESCAPES.get(nxt, nxt))
        i += 2
    return bytes(out)


def _css_decode(raw: bytes) -> bytes:
    """CSS 2 escapes: a backslash and one to six hex digits (one optional whitespace after
    them is part of the escape); a backslash and a newline is a line continuation (both
    go); a backslash and anything else is that character (ja\\vascript is javascript).

    "Uses up to two bytes": the escape gives one byte, the last two hex digits; for a
    four-to-six digit escape whose code is FFxx in the full-width range, the byte is
    adjusted as in :func:`_wide_low_byte` (ModSecurity's cssDecode, which this follows).
    A backslash at the very end is dropped."""
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c != 0x5C:
            out.append(c)
            i += 1
            continue
        if i + 1 >= n:
            i += 1  # a lone trailing backslash
            continue
        j = i + 1
        while j < n and j - i - 1 < 6 and raw[j] in _HEX:
            j += 1
        digits = raw[i + 1 : j]
        if digits:
            code = int(digits, 16)
            byte = code & 0xFF
            if len(digits) >= 4 and 0xFF01 <= (code & 0xFFFF) <= 0xFF5E and code <= 0xFFFF:
                byte = _wide_low_byte(code)
            out.append(byte)
            if j < n and raw[j] in b" \t\n\r\f":
                j += 1
            i = j
        elif raw[i + 1] == 0x0A:
            i += 2
        else:
            out.append(raw[i + 1])
            i += 2
    return bytes(out)


# --- Base64 and hex ---------------------------------------------------------------------------

_B64_PREFIX = re.compile(rb"[A-Za-z0-9+/]*")
_B64_ALPHABET = re.compile(rb"[^A-Za-z0-9+/]")


def _b64(chars: bytes) -> bytes:
    if len(chars) % 4 == 1:
        chars = chars[:-1]  # one leftover character holds no whole byte
    return base64.b64decode(chars + b"=" * (-len(chars) % 4))


def _base64_decode(raw: bytes) -> bytes:
    # Strict: decodes the run of Base64 characters at the start and stops at the first
    # character that is not one (ModSecurity's base64Decode); "=" padding ends the run.
    return _b64(_B64_PREFIX.match(raw).group(0))


def _base64_decode_ext(raw: bytes) -> bytes:
    # "Forgiving": characters outside the Base64 alphabet are skipped, wherever they are.
    return _b64(_B64_ALPHABET.sub(b"", raw))


def _hex_decode(raw: bytes) -> bytes:
    # Each pair of hex digits becomes a byte; what is not a hex pair stays as it is.
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        pair = raw[i : i + 2]
        if len(pair) == 2 and _is_hex(pair):
            out.append(int(pair, 16))
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


_SQL_HEX = re.compile(rb"0[xX]((?:[0-9a-fA-F]{2})+)")


def _sql_hex_decode(raw: bytes) -> bytes:
    # 0x414243 is ABC (the API's example); an odd last digit is not part of the literal.
    return _SQL_HEX.sub(lambda m: binascii.unhexlify(m.group(1)), raw)


# --- paths ------------------------------------------------------------------------------------


def _normalize_path(text: str) -> str:
    """Remove repeated slashes, ./ and dir/../ pairs; a ../ with nothing before it to
    cancel (at the beginning) stays, as the docs say."""
    absolute = text.startswith("/")
    trailing = text.endswith("/") or text.endswith("/.") or text.endswith("/..")
    parts: list[str] = []
    for segment in text.split("/"):
        if segment in ("", "."):
            continue
        if segment == ".." and parts and parts[-1] != "..":
            parts.pop()
        else:
            parts.append(segment)
    path = ("/" if absolute else "") + "/".join(parts)
    if trailing and parts:
        path += "/"
    return path


# --- encodings and hashes ---------------------------------------------------------------------


def _utf8_to_unicode(text: str) -> str:
    # Model after ModSecurity's utf8toUnicode, whose description WAF's repeats word for
    # word: every multi-byte UTF-8 character becomes %uHHHH (its code point, lower-case
    # hex); ASCII and bytes that are not UTF-8 stay as they are.
    return "".join(
        f"%u{ord(c):04x}" if ord(c) > 0x7F and not 0xDC80 <= ord(c) <= 0xDCFF else c for c in text
    )


def _digest(algorithm: str) -> Callable[[bytes], bytes]:
    return lambda raw: hashlib.new(algorithm, raw).digest()


def _on_bytes(fn: Callable[[bytes], bytes]) -> Callable[[str], str]:
    return lambda text: _t(fn(_b(text)))


# --- the table --------------------------------------------------------------------------------

# Every TextTransformationType (API reference, TextTransformation, "Valid Values"), in the
# API's order. The first 21 are also in the installed botocore's model; the last ten were
# added to the API later (botocore 1.43 here does not list them yet).
_TRANSFORMS: dict[str, Callable[[str], str]] = {
    "NONE": lambda text: text,
    "COMPRESS_WHITE_SPACE": _compress_white_space,
    "HTML_ENTITY_DECODE": _html_entity_decode,
    "LOWERCASE": lambda text: text.translate(_LOWER),
    "CMD_LINE": _cmd_line,
    "URL_DECODE": _on_bytes(lambda raw: _url_decode_bytes(raw, uni=False)),
    "BASE64_DECODE": _on_bytes(_base64_decode),
    "HEX_DECODE": _on_bytes(_hex_decode),
    "MD5": _on_bytes(_digest("md5")),
    "REPLACE_COMMENTS": _replace_comments,
    "ESCAPE_SEQ_DECODE": _on_bytes(_escape_seq_decode),
    "SQL_HEX_DECODE": _on_bytes(_sql_hex_decode),
    "CSS_DECODE": _on_bytes(_css_decode),
    "JS_DECODE": _on_bytes(_js_decode),
    "NORMALIZE_PATH": _normalize_path,
    "NORMALIZE_PATH_WIN": lambda text: _normalize_path(text.replace("\\", "/")),
    "REMOVE_NULLS": lambda text: text.replace("\x00", ""),
    "REPLACE_NULLS": lambda text: text.replace("\x00", " "),
    "BASE64_DECODE_EXT": _on_bytes(_base64_decode_ext),
    "URL_DECODE_UNI": _on_bytes(lambda raw: _url_decode_bytes(raw, uni=True)),
    "UTF8_TO_UNICODE": _utf8_to_unicode,
    # Added later; models (see each function), no AWS description offline.
    "REMOVE_WHITESPACE": _remove_whitespace,
    "TRIM": lambda text: text.strip(_WHITESPACE),
    "TRIM_LEFT": lambda text: text.lstrip(_WHITESPACE),
    "TRIM_RIGHT": lambda text: text.rstrip(_WHITESPACE),
    "REMOVE_COMMENTS_CHAR": lambda text: _COMMENT_CHARS.sub("", text),
    "UPPERCASE": lambda text: text.translate(_UPPER),
    "CMD_LINE_WIN": _cmd_line_win,
    "CMD_LINE_UNIX": _cmd_line_unix,
    "JS_DECODE_EXT": _on_bytes(lambda raw: _js_decode(raw, ext=True)),
    "SHA256": _on_bytes(_digest("sha256")),
}

TRANSFORMATION_TYPES: tuple[str, ...] = tuple(_TRANSFORMS)

# The types whose behaviour is the course's model rather than AWS's published description.
MODELLED_TYPES: frozenset[str] = frozenset(TRANSFORMATION_TYPES[21:]) | {"UTF8_TO_UNICODE"}


def _unknown(type_: object, path: str) -> WafTransformError:
    allowed = ", ".join(TRANSFORMATION_TYPES)
    return WafTransformError(
        f"Value '{type_}' at '{path}' failed to satisfy constraint: "
        f"Member must satisfy enum value set: [{allowed}]",
        json_path=path,
    )


def transform(text: str, type_: str) -> str:
    """``text`` after one transformation of type ``type_``."""
    fn = _TRANSFORMS.get(type_)
    if fn is None:
        raise _unknown(type_, "TextTransformation.Type")
    return fn(text)


def apply_transformations(text: str, transformations: Sequence[Mapping]) -> str:
    """``text`` after a statement's TextTransformations (``[{"Priority": n, "Type": T}]``),
    lowest Priority first, as WAF applies them."""
    order = sorted(enumerate(transformations), key=lambda it: (it[1].get("Priority", 0), it[0]))
    for index, step in order:
        type_ = step.get("Type")
        fn = _TRANSFORMS.get(type_) if isinstance(type_, str) else None
        if fn is None:
            raise _unknown(type_, f"TextTransformations[{index}].Type")
        text = fn(text)
    return text
