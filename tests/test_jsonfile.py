"""Does a broken learner file give file, line and column, and lose nothing?"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.aws.jsonfile import MAX_BYTES, InputError, load_json


def write(tmp_path: Path, content: bytes | str, name: str = "policy.json") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_broken_json_names_file_line_and_column(tmp_path):
    path = write(
        tmp_path,
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow",}\n  ]\n}\n',
    )
    with pytest.raises(InputError) as err:
        load_json(path)
    assert (err.value.line, err.value.column) == (4, 24)
    assert str(err.value).startswith(f"{path}:4:24: not valid JSON")


def test_empty_file_says_it_is_empty(tmp_path):
    with pytest.raises(InputError, match="the file is empty"):
        load_json(write(tmp_path, "  \n"))


def test_array_instead_of_object_is_named(tmp_path):
    with pytest.raises(InputError, match="holds an array; it should hold a JSON object"):
        load_json(write(tmp_path, '[{"Effect": "Allow"}]'))


def test_non_utf8_bytes_give_the_position(tmp_path):
    with pytest.raises(InputError) as err:
        load_json(write(tmp_path, b'{\n  "Sid": "caf\xe9"\n}'))
    assert (err.value.line, err.value.column) == (2, 14)
    assert "not valid UTF-8" in err.value.message


def test_utf8_with_bom_is_accepted(tmp_path):
    assert load_json(write(tmp_path, b'\xef\xbb\xbf{"a": 1}')) == {"a": 1}


def test_oversized_file_is_refused_before_reading(tmp_path):
    path = write(tmp_path, b" " * (MAX_BYTES + 1))
    with pytest.raises(InputError, match="the limit is"):
        load_json(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_json(tmp_path / "nope.json")
    with pytest.raises(InputError, match="folder, not a file"):
        load_json(tmp_path)
