"""The text of an ENVI ``.hdr`` header, read as leniently as ENVI and as strictly as the shape needs.

Spectral Python's parser opens the header in the locale's encoding and takes its first line
literally, so a UTF-8 byte-order mark or a Latin-1 "µ" (as Windows editors write them) makes it
refuse the file as "not an ENVI header"; and a key given twice silently takes its last value,
even ``lines`` or ``data type``. This parser decodes UTF-8 (with or without a BOM), then Latin-1,
and says so; it keeps ENVI's rule that the last value of a repeated key wins, with a warning that
names the key, and refuses a repeat that changes how the data file is laid out.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from hsiviewer.errors import SceneReadError

#: Keys whose value decides how the data file is read; giving one twice with two values is refused.
LAYOUT_KEYS = ("samples", "lines", "bands", "interleave", "data type", "header offset", "byte order")


def decode_header(raw: bytes, path: Path, warnings: list) -> str:
    """The header's text: UTF-8 (a BOM is dropped), UTF-16 with a BOM, else Latin-1 with a warning."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise SceneReadError(f"the ENVI header starts like UTF-16 text but is not ({exc.reason})", path) from exc
    if b"\x00" in raw[:4096]:
        raise SceneReadError("is not an ENVI header (it holds binary data; its first line must be 'ENVI')", path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        warnings.append(
            f"the header is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "it was read as Latin-1, so check accented names and units"
        )
        return raw.decode("latin-1")


def parse_header(text: str, path: Path, warnings: list) -> dict:
    """Parse header text into a dict: keys lower-case, ``{...}`` values as lists of stripped strings
    (``description`` as one string), everything else as a stripped string.

    Raises
    ------
    SceneReadError
        When the first line is not ``ENVI``, a ``{`` list is never closed, or a layout key
        (:data:`LAYOUT_KEYS`) is given twice with different values.
    """
    lines = text.splitlines()
    if not lines or not lines[0].strip().startswith("ENVI"):
        raise SceneReadError("is not an ENVI header (its first line must be 'ENVI')", path)
    header: dict = {}
    seen: dict[str, list] = {}
    i = 1
    while i < len(lines):
        line = lines[i]
        i += 1
        if "=" not in line or line.lstrip().startswith(";"):
            continue
        key, _, value = line.partition("=")
        key, value = key.strip().lower(), value.strip()
        if value.startswith("{"):
            while not value.endswith("}"):
                if i >= len(lines):
                    raise SceneReadError(f"the '{{' list of '{key}' is never closed with '}}'", path)
                if not lines[i].lstrip().startswith(";"):
                    value += "\n" + lines[i].strip()
                i += 1
            inner = value[1:-1]
            header[key] = inner.strip() if key == "description" else [v.strip() for v in inner.split(",")]
        else:
            header[key] = value
        seen.setdefault(key, []).append(header[key])
    _check_repeats(seen, path, warnings)
    return header


def _check_repeats(seen: dict, path: Path, warnings: list) -> None:
    for key, values in seen.items():
        if len(values) < 2:
            continue
        if key in LAYOUT_KEYS and len({str(v).strip().lower() for v in values}) > 1:
            shown = " and ".join(f"'{v}'" for v in values)
            raise SceneReadError(
                f"the ENVI header gives '{key}' {len(values)} times with different values "
                f"({shown}); which one is right decides how the data are read, so fix "
                "the header",
                path,
            )
        warnings.append(f"'{key}' is given {len(values)} times in the header; the last value is used, as ENVI does")


def read_header_file(path: Path, warnings: list) -> dict:
    """Read and parse the header at ``path`` (see :func:`decode_header`, :func:`parse_header`)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SceneReadError(f"the ENVI header cannot be read ({exc.strerror})", path) from exc
    return parse_header(decode_header(raw, path, warnings), path, warnings)
