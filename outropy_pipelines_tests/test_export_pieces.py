"""A big day file is read a piece at a time (`array_pieces`): exactly the records, rows and
quarantine of reading it whole, whatever its layout; a piece that is no JSON means a whole read."""

from __future__ import annotations

import functools
import io
import json
import shutil
from typing import Any

import orjson
import pytest

from outropy_pipelines.adapters import export_day_file, export_files
from outropy_pipelines.adapters.export_files import array_pieces, parse_array_piece, parse_json_bytes
from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines_tests.conftest import SAMPLE_EXPORT

RECORDS = [
    {"ts": f"1791180000.{i:06d}", "text": "a },\n{ in a string ][", "blocks": [{"x": 1}, {"y": [2, {}]}]}
    for i in range(40)
]
LAYOUTS = {
    "one record a line": b"[\n" + b",\n".join(orjson.dumps(r) for r in RECORDS) + b"\n]\n",
    "indent 2": orjson.dumps(RECORDS, option=orjson.OPT_INDENT_2),
    "indent 4 with a byte order mark": ("\ufeff" + json.dumps(RECORDS, indent=4)).encode(),
    "indent 1, CRLF": json.dumps(RECORDS, indent=1).replace("\n", "\r\n").encode(),
}


def pieces(data: bytes, piece_bytes: int, min_bytes: int = 0) -> list[Any] | str | None:
    parts = array_pieces(io.BytesIO(data), len(data), piece_bytes, min_bytes)
    if parts is None:
        return None
    out: list[Any] = []
    for piece in parts:
        part = None if piece is None else parse_array_piece(piece)
        if part is None:
            return "whole"
        out += part
    return out


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("piece_bytes", [1, 50, 1000, 10**9])
@pytest.mark.parametrize("read_bytes", [1, 7, 1 << 20])
def test_pieces_hold_exactly_the_documents_records(monkeypatch, layout, piece_bytes, read_bytes):
    """Whatever the size of the pieces, and of the reads of the stream they are cut from."""
    monkeypatch.setattr(export_files, "_READ_BYTES", read_bytes)
    data = LAYOUTS[layout]
    # CRLF: "},\r\n" is not the separator looked for, the document is one piece
    assert pieces(data, piece_bytes) == parse_json_bytes(data)


def test_what_is_not_an_array_of_objects_on_lines_is_read_whole():
    for data in (b'{"a": 1}', b"[]", b"[1, 2]", b'[{"a": 1}, {"b": 2}]', b"[", b"  \n"):
        assert pieces(data, 1) is None
    # known at the end only: the pieces read so far are then retracted (see `export_day_file.py`)
    for data in (b"[\n{}\n", b"[\n{},\n{}\n] x", LAYOUTS["indent 2"][:-1]):
        assert pieces(data, 1) == "whole"
    assert pieces(LAYOUTS["indent 2"], 1, min_bytes=len(LAYOUTS["indent 2"]) + 1) is None  # small: whole


@pytest.mark.parametrize(
    "defect", [b'{"ts": NaN},\n', b'{"ts": "1"},,\n', b'{"ts": "1"}\n', b"\xff,\n", b'{"ts": 1e999999},\n']
)
def test_a_piece_that_is_no_json_array_content_sends_the_reader_back_to_the_whole(defect):
    data = LAYOUTS["one record a line"]
    cut = data.index(b"\n", len(data) // 2) + 1
    assert pieces(data[:cut] + defect + data[cut:], 1) == "whole"


def read_all(reader: SlackExportReader) -> list[Any]:
    out = []
    for day in reader.available_days():
        read = reader.read_day(day)
        out.append((day, read.messages, [q.model_dump() for q in read.quarantine], read.duplicates))
    return out


@pytest.mark.parametrize("nan", [False, True])
def test_an_export_with_bad_records_reads_the_same_in_pieces(tmp_path, monkeypatch, nan):
    """Records that do not fit, strays and duplicates (and a NaN, which only the standard library
    reads): rows, quarantine with record numbers, counts identical."""
    root = tmp_path / "export"
    shutil.copytree(SAMPLE_EXPORT, root)
    for path in sorted(root.glob("*/*.json"))[:6]:
        records = json.loads(path.read_text())
        if not isinstance(records, list) or not records:
            continue
        records[1:1] = [42, {"type": "message"}, {"ts": "1.0", "text": "far away"}, records[0]]
        text = json.dumps(records, indent=1)
        path.write_text(text.replace('"far away"', "NaN") if nan else text)
    whole = read_all(SlackExportReader(root))
    split = functools.partial(array_pieces, piece_bytes=300, min_bytes=0)
    monkeypatch.setattr(export_day_file, "array_pieces", split)
    assert read_all(SlackExportReader(root)) == whole
    assert any(q for _, _, q, _ in whole)
