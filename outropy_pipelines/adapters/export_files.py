"""The files of a Slack export, wherever they are: a directory, or the .zip Slack hands out.

A zip is read in place (members straight from the archive with `zipfile`, never unpacked). Exports
often wrap everything in one top-level folder (`acme-export/channels.json`, ...): when the root
has none of the conversation lists and one folder does, that folder is the export. Only two levels
matter: files at the export's root (`users.json`, `channels.json`, ...) and files in conversation
folders (`general/2026-11-02.json`); `__MACOSX/` and other hidden entries are ignored.

`ExportFiles` pickles without its open zip handle, so worker processes each open their own.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

#: the files whose presence makes a folder a Slack export's root
EXPORT_LISTS = ("channels.json", "groups.json", "dms.json", "mpims.json")
_BOM = b"\xef\xbb\xbf"


class ExportFormatError(ValueError):
    """The path is not a Slack export at all."""


def parse_json_bytes(data: bytes) -> Any:
    """Parse a JSON document (a UTF-8 byte order mark is skipped) fast; fall back to the standard
    library (lenient about NaN and invalid UTF-8, with clearer messages) when orjson refuses it.
    Raises ValueError, also for documents nested too deep for either parser."""
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        import json

        try:
            return json.loads(data.decode("utf-8", errors="replace"))
        except RecursionError:
            raise ValueError("JSON nested too deep to read") from None


#: a day file this big is parsed a piece of about ARRAY_PIECE_BYTES at a time (see `array_pieces`)
ARRAY_PIECE_MIN_BYTES = 8_000_000
ARRAY_PIECE_BYTES = 4_000_000
_JSON_SPACE = b" \t\n\r"
_READ_BYTES = 1 << 20


def array_pieces(
    stream: BinaryIO,
    size: int,
    piece_bytes: int = ARRAY_PIECE_BYTES,
    min_bytes: int = ARRAY_PIECE_MIN_BYTES,
) -> Iterator[bytes | None] | None:
    """A big JSON array of objects (`size` bytes, read from `stream`) cut into pieces of about
    `piece_bytes`, each a JSON array of its own (`parse_array_piece`), read from the stream as they
    are needed: neither the document nor its Python objects are ever held whole. Cut after a `}`
    where the next element begins on a new line as the first element does (`},\n{` one record a
    line, `},\n    {` as Slack writes them). None for a document under `min_bytes` or that does not
    begin so (`[`, a line break, `{`); a piece is None when the document turns out not to end as
    such an array does (`]`).

    A cut may still fall inside an element: a piece that is then no JSON makes the reader parse
    the whole document instead. When every piece parses, their elements are exactly the
    document's (the pieces joined by the commas cut out are the array's content)."""
    if size < min_bytes:
        return None
    buf = bytearray()
    while len(buf) < len(_BOM) and (more := stream.read(_READ_BYTES)):
        buf += more
    start = _skip_space(stream, buf, len(_BOM) if buf.startswith(_BOM) else 0)
    if start >= len(buf) or buf[start] != ord("["):
        return None
    first = _skip_space(stream, buf, start + 1)
    newline = buf.rfind(b"\n", start, first)
    if first >= len(buf) or buf[first] != ord("{") or newline < 0:
        return None
    separator = b"},\n" + bytes(buf[newline + 1 : first + 1])  # "},", the line break, the indent, "{"
    del buf[: start + 1]
    return _pieces(stream, buf, separator, piece_bytes)


def _skip_space(stream: BinaryIO, buf: bytearray, i: int) -> int:
    """The index of the first byte from `i` on that is no JSON space, reading more into `buf` as
    needed (len(buf) at the end of the stream)."""
    while True:
        while i < len(buf) and buf[i] in _JSON_SPACE:
            i += 1
        if i < len(buf):
            return i
        more = stream.read(_READ_BYTES)
        if not more:
            return i
        buf += more


def _pieces(stream: BinaryIO, buf: bytearray, separator: bytes, piece_bytes: int) -> Iterator[bytes | None]:
    """The pieces of `array_pieces`, `buf` holding what was read of the current one."""
    searched = piece_bytes  # no cut before here in the current piece
    while True:
        cut = buf.find(separator, searched)
        if cut >= 0:
            yield b"".join((b"[", buf[: cut + 1], b"]"))
            del buf[: cut + 2]
            searched = piece_bytes
            continue
        searched = max(piece_bytes, len(buf) - len(separator) + 1)
        more = stream.read(_READ_BYTES)
        if more:
            buf += more
            continue
        content = bytes(buf).rstrip(_JSON_SPACE)
        del buf[:]
        yield b"".join((b"[", content[:-1], b"]")) if content.endswith(b"]") else None
        return


def parse_array_piece(piece: bytes) -> list[Any] | None:
    """The elements of a piece of `array_pieces`, or None when it is not a run of whole JSON values
    (orjson's reading, as `parse_json_bytes` reads a document orjson accepts)."""
    try:
        values = orjson.loads(piece)
    except orjson.JSONDecodeError:
        return None
    return values if values else None


def _hidden(name: str) -> bool:
    return name.startswith(("_", ".")) or name == "__MACOSX"


class ExportFiles:
    """Read-only access to the root files and conversation folders of an export."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        if self.path.is_dir():
            self.is_zip = False
            self._root = self._unwrap_directory(self.path)
        elif self.path.is_file() and zipfile.is_zipfile(self.path):
            self.is_zip = True
            self._index_zip()
        else:
            raise ExportFormatError(f"Slack export directory or .zip file not found: {self.path}")

    def __repr__(self) -> str:
        return f"ExportFiles({str(self.path)!r})"

    # -- pickling (worker processes open the zip themselves) ------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_zip"] = None
        return state

    # -- directory -----------------------------------------------------------------------------
    @staticmethod
    def _unwrap_directory(path: Path) -> Path:
        if any((path / name).is_file() for name in EXPORT_LISTS):
            return path
        inner = [p for p in path.iterdir() if p.is_dir() and not _hidden(p.name)]
        if len(inner) == 1 and any((inner[0] / name).is_file() for name in EXPORT_LISTS):
            return inner[0]
        return path

    # -- zip -----------------------------------------------------------------------------------
    def _index_zip(self) -> None:
        with zipfile.ZipFile(self.path) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
            sizes = {i.filename: i.file_size for i in zf.infolist() if not i.is_dir()}
        parts = [n.split("/") for n in names if not any(_hidden(p) for p in n.split("/")[:-1])]
        prefix = ""
        if not any(len(p) == 1 and p[0] in EXPORT_LISTS for p in parts):
            tops = {p[0] for p in parts if len(p) > 1}
            wrapped = [t for t in tops if any(p == [t, name] for p in parts for name in EXPORT_LISTS)]
            if len(wrapped) == 1:
                prefix = wrapped[0] + "/"
        self._prefix = prefix
        self._root_files: set[str] = set()
        self._folders: dict[str, dict[str, int]] = {}
        for name in names:
            if not name.startswith(prefix):
                continue
            rel = name[len(prefix) :].split("/")
            if len(rel) == 1 and rel[0]:
                self._root_files.add(rel[0])
            elif len(rel) == 2 and rel[1] and not _hidden(rel[0]):
                self._folders.setdefault(rel[0], {})[rel[1]] = sizes[name]

    def _zipfile(self) -> zipfile.ZipFile:
        if self._zip is None:
            self._zip = zipfile.ZipFile(self.path)
        return self._zip

    # -- reading -------------------------------------------------------------------------------
    @property
    def location(self) -> str:
        """Where the export's root is, for messages."""
        if self.is_zip:
            return f"{self.path}!/{self._prefix}" if self._prefix else str(self.path)
        return str(self._root)

    def has_root_file(self, name: str) -> bool:
        if self.is_zip:
            return name in self._root_files
        return (self._root / name).is_file()

    def read_root_file(self, name: str) -> bytes:
        """A root file's bytes. Raises FileNotFoundError."""
        if self.is_zip:
            if name not in self._root_files:
                raise FileNotFoundError(name)
            return self._zipfile().read(self._prefix + name)
        return (self._root / name).read_bytes()

    def folders(self) -> list[str]:
        """The conversation folders, sorted by name (hidden and `_` folders left out)."""
        if self.is_zip:
            return sorted(self._folders)
        return sorted(
            entry.name for entry in os.scandir(self._root) if entry.is_dir() and not _hidden(entry.name)
        )

    def folder_files(self, folder: str) -> list[str]:
        """The names of the files in a conversation folder, sorted."""
        if self.is_zip:
            return sorted(self._folders.get(folder, {}))
        return sorted(entry.name for entry in os.scandir(self._root / folder) if entry.is_file())

    def read(self, folder: str, name: str) -> bytes:
        """A folder's file's bytes. Raises FileNotFoundError."""
        if self.is_zip:
            if name not in self._folders.get(folder, {}):
                raise FileNotFoundError(f"{folder}/{name}")
            return self._zipfile().read(f"{self._prefix}{folder}/{name}")
        return (self._root / folder / name).read_bytes()

    def open(self, folder: str, name: str) -> BinaryIO:
        """A folder's file, to be read as a stream. Raises FileNotFoundError."""
        if self.is_zip:
            if name not in self._folders.get(folder, {}):
                raise FileNotFoundError(f"{folder}/{name}")
            return self._zipfile().open(f"{self._prefix}{folder}/{name}")
        return (self._root / folder / name).open("rb")

    def size(self, folder: str, name: str) -> int:
        """A folder's file's size in bytes (uncompressed), 0 when it is not there."""
        if self.is_zip:
            return self._folders.get(folder, {}).get(name, 0)
        try:
            return (self._root / folder / name).stat().st_size
        except FileNotFoundError:
            return 0
