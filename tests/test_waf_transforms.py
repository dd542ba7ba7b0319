"""WAF's text transformations: each type on the docs' own examples, order, and errors."""

from __future__ import annotations

import hashlib

import botocore.session
import pytest

from grader.aws.errors import GraderError
from grader.aws.waf.transforms import (
    TRANSFORMATION_TYPES,
    WafTransformError,
    apply_transformations,
    transform,
)

# The API reference's TextTransformation "Valid Values", in its order (31 types).
API_TYPES = (  # noqa: SIM905 - a space-separated list, as the docs print it
    "NONE COMPRESS_WHITE_SPACE HTML_ENTITY_DECODE LOWERCASE CMD_LINE URL_DECODE BASE64_DECODE "
    "HEX_DECODE MD5 REPLACE_COMMENTS ESCAPE_SEQ_DECODE SQL_HEX_DECODE CSS_DECODE JS_DECODE "
    "NORMALIZE_PATH NORMALIZE_PATH_WIN REMOVE_NULLS REPLACE_NULLS BASE64_DECODE_EXT "
    "URL_DECODE_UNI UTF8_TO_UNICODE REMOVE_WHITESPACE TRIM TRIM_LEFT TRIM_RIGHT "
    "REMOVE_COMMENTS_CHAR UPPERCASE CMD_LINE_WIN CMD_LINE_UNIX JS_DECODE_EXT SHA256"
).split()


def test_are_all_31_api_types_there_in_the_apis_order():
    assert list(TRANSFORMATION_TYPES) == API_TYPES


def test_does_every_type_botocore_knows_exist_here():
    # botocore 1.43 lists the first 21; the 10 newer ones may be missing from it, never others.
    model = botocore.session.get_session().get_service_model("wafv2")
    enum = model.shape_for("TextTransformationType").enum
    assert set(enum) <= set(TRANSFORMATION_TYPES)
    assert set(TRANSFORMATION_TYPES) - set(enum) <= set(API_TYPES[21:])


# (type, input, expected): the docs' descriptions turned into examples.
CASES = [
    ("NONE", "A%41", "A%41"),
    # CMD_LINE: delete \ " ' ^; delete spaces before / and (; , ; become spaces; one space; lower.
    ("CMD_LINE", "E\\c\"h'o^ HI", "echo hi"),
    ("CMD_LINE", "dir   /s", "dir/s"),
    ("CMD_LINE", "ping (x)", "ping(x)"),
    ("CMD_LINE", "a,b;c", "a b c"),
    ("CMD_LINE", "a, /b", "a/b"),
    ("COMPRESS_WHITE_SPACE", "a\f\t\n\r\vb", "a b"),
    ("COMPRESS_WHITE_SPACE", "a\xa0 b", "a b"),
    ("COMPRESS_WHITE_SPACE", "a    b", "a b"),
    ("HTML_ENTITY_DECODE", "&quot;&lt;x&gt;", '"<x>'),
    ("HTML_ENTITY_DECODE", "a&nbsp;b", "a\xa0b"),
    ("HTML_ENTITY_DECODE", "&#x3c;script&#62;", "<script>"),
    ("HTML_ENTITY_DECODE", "&bogus;", "&bogus;"),
    ("LOWERCASE", "SeLeCT Ä", "select Ä"),
    ("UPPERCASE", "select ä", "SELECT ä"),
    ("URL_DECODE", "%3Cscript%3E", "<script>"),
    ("URL_DECODE", "a+b", "a b"),
    ("URL_DECODE", "100%25 %zz", "100% %zz"),
    ("URL_DECODE", "%u0041", "%u0041"),
    ("URL_DECODE_UNI", "%u0041", "A"),
    ("URL_DECODE_UNI", "%uFF21", "A"),  # full-width A: the high byte adjusts 0x21 to 0x41
    ("URL_DECODE_UNI", "%u1221", "!"),  # otherwise the high byte is zeroed
    ("BASE64_DECODE", "PHNjcmlwdD4=", "<script>"),
    ("BASE64_DECODE", "QUJD!REVG", "ABC"),  # stops at the first character not Base64
    ("BASE64_DECODE_EXT", "PH.Nj-cm!lwdD4", "<script>"),  # skips what is not Base64
    ("HEX_DECODE", "3c7363726970743e", "<script>"),
    ("SQL_HEX_DECODE", "0x414243", "ABC"),
    ("SQL_HEX_DECODE", "SELECT 0X61 FROM t", "SELECT a FROM t"),
    ("REPLACE_COMMENTS", "UNION/**/SELECT", "UNION SELECT"),
    ("REPLACE_COMMENTS", "a/*1*//*2*/b", "a  b"),  # consecutive ones are not compressed
    ("REPLACE_COMMENTS", "a/* unterminated", "a "),
    ("REPLACE_COMMENTS", "a*/b", "a*/b"),  # a lone terminator is left alone
    ("REMOVE_COMMENTS_CHAR", "UNION/**/SEL--ECT#", "UNIONSELECT"),
    ("ESCAPE_SEQ_DECODE", "\\a\\b\\f\\n\\r\\t\\v", "\a\b\f\n\r\t\v"),
    ("ESCAPE_SEQ_DECODE", "\\\\\\?\\'\\\"", "\\?'\""),
    ("ESCAPE_SEQ_DECODE", "\\x41\\101\\07", "AA\a"),  # octal: up to three digits
    ("ESCAPE_SEQ_DECODE", "\\q\\xZZ", "\\q\\xZZ"),  # invalid encodings remain
    ("CSS_DECODE", "ja\\vascript", "javascript"),
    ("CSS_DECODE", "\\3c script\\3e", "<script>"),  # one space after the hex is eaten
    ("CSS_DECODE", "\\ff21\\1221", "A!"),  # full-width adjusted like JS_DECODE
    ("JS_DECODE", "\\u003cscript\\x3e", "<script>"),
    ("JS_DECODE", "\\uFF21\\u1221", "A!"),
    ("JS_DECODE", "\\74\\n\\q", "<\nq"),
    ("JS_DECODE_EXT", "\\u{3c}\\u00e9", "<é"),
    ("NORMALIZE_PATH", "/a//b/./c/../d", "/a/b/d"),
    ("NORMALIZE_PATH", "../a", "../a"),  # a back-reference at the beginning stays
    ("NORMALIZE_PATH_WIN", "\\a\\.\\b\\..\\c", "/a/c"),
    ("REMOVE_NULLS", "a\x00b\x00", "ab"),
    ("REPLACE_NULLS", "a\x00b", "a b"),
    ("UTF8_TO_UNICODE", "café", "caf%u00e9"),
    ("REMOVE_WHITESPACE", " a b\t\nc ", "abc"),
    ("TRIM", " \t a b \n", "a b"),
    ("TRIM_LEFT", "  a b  ", "a b  "),
    ("TRIM_RIGHT", "  a b  ", "  a b"),
    ("CMD_LINE_WIN", 'C:\\Windows\\^Sys"TEM32', "c:/windows/system32"),
    ("CMD_LINE_UNIX", 'c\\a\'t "/ETC"', "cat/ETC"),
]


@pytest.mark.parametrize(("type_", "text", "expected"), CASES)
def test_does_each_transformation_do_what_the_docs_say(type_, text, expected):
    assert transform(text, type_) == expected


def test_is_every_type_covered_by_an_example():
    assert {c[0] for c in CASES} | {"MD5", "SHA256"} == set(TRANSFORMATION_TYPES)


@pytest.mark.parametrize(("type_", "algorithm"), [("MD5", "md5"), ("SHA256", "sha256")])
def test_do_hashes_give_the_raw_binary_digest(type_, algorithm):
    out = transform("abc", type_)
    raw = out.encode("utf-8", errors="surrogateescape")
    assert raw == hashlib.new(algorithm, b"abc").digest()


def test_do_decoded_bytes_that_are_not_utf8_survive_exactly():
    out = transform("%ff%00", "URL_DECODE")
    assert out.encode("utf-8", errors="surrogateescape") == b"\xff\x00"


def test_does_url_decode_then_lowercase_differ_from_the_reverse():
    steps = [{"Priority": 1, "Type": "LOWERCASE"}, {"Priority": 0, "Type": "URL_DECODE"}]
    assert apply_transformations("%3C%53CRIPT", steps) == "<script"
    # %3c would still decode, but a lowered %53 is %53 too; what decodes late stays upper.
    reverse = [{"Priority": 0, "Type": "LOWERCASE"}, {"Priority": 1, "Type": "URL_DECODE"}]
    assert apply_transformations("%3CSCRIPT%41", reverse) == "<scriptA"


def test_is_a_double_encoding_undone_only_by_two_decodes():
    once = [{"Priority": 0, "Type": "URL_DECODE"}]
    twice = once + [{"Priority": 5, "Type": "URL_DECODE"}]
    assert apply_transformations("%253C", once) == "%3C"
    assert apply_transformations("%253C", twice) == "<"


def test_are_steps_applied_by_priority_not_list_order():
    steps = [{"Priority": 9, "Type": "BASE64_DECODE"}, {"Priority": 2, "Type": "URL_DECODE"}]
    assert apply_transformations("PHNjcmlwdD4%3D", steps) == "<script>"


def test_does_an_empty_list_leave_the_text_alone():
    assert apply_transformations("A%41", []) == "A%41"


def test_does_an_unknown_type_name_the_allowed_values():
    with pytest.raises(WafTransformError) as err:
        apply_transformations("x", [{"Priority": 0, "Type": "NONE"}, {"Priority": 1, "Type": "X"}])
    assert isinstance(err.value, GraderError)
    assert err.value.json_path == "TextTransformations[1].Type"
    assert "URL_DECODE_UNI" in str(err.value) and "'X'" in str(err.value)
    with pytest.raises(WafTransformError):
        transform("x", "lowercase")
