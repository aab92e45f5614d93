"""The C ABI itself: the cffi cdef is the header's declaration block, the library exports exactly
the header's functions (nothing else), the version and status names, and the error contract
(null pointers, small buffers, unknown names) on raw calls."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADER = ROOT / "bindings" / "c" / "include" / "clutchcall_core_ffi.h"
CFFI_SOURCE = ROOT / "bindings" / "cffi" / "clutchcall_core_ffi.py"


def normalize(c_text: str) -> str:
    """Declarations without comments, the export marker and whitespace differences."""
    text = re.sub(r"/\*.*?\*/", " ", c_text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = text.replace("CC_FFI_API", " ")
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s*([(),;{}=*])\s*", r"\1", text).strip()


def header_cdef() -> str:
    text = HEADER.read_text()
    m = re.search(r"/\* CC_FFI_CDEF_BEGIN \*/(.*)/\* CC_FFI_CDEF_END \*/", text, flags=re.S)
    assert m, "CC_FFI_CDEF_BEGIN/END markers missing from the header"
    return m.group(1)


def binding_cdef() -> str:
    tree = ast.parse(CFFI_SOURCE.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "CDEF" for t in node.targets):
            value = node.value
            assert isinstance(value, ast.Constant) and isinstance(value.value, str)
            return value.value
    raise AssertionError("no CDEF string in the cffi binding")


def header_functions() -> set[str]:
    return set(re.findall(r"\b(cc_\w+)\(", normalize(header_cdef())))


def test_cdef_matches_header() -> None:
    assert normalize(binding_cdef()) == normalize(header_cdef())


def test_exports_exactly_the_header_functions(ffi: ModuleType) -> None:
    lib_path = Path(ffi.library_path())
    out = subprocess.run(["nm", "-D", "--defined-only", str(lib_path)], capture_output=True, text=True, check=True)
    exported = {line.split()[-1].split("@")[0] for line in out.stdout.splitlines() if " T " in line}
    assert exported == header_functions()
    versions = {line.split()[-1] for line in out.stdout.splitlines() if " A " in line}
    assert versions == {"CLUTCHCALL_CORE_FFI_1"}


def test_version(ffi: ModuleType) -> None:
    text = HEADER.read_text()
    major = int(re.search(r"#define CC_FFI_VERSION_MAJOR (\d+)", text).group(1))  # type: ignore[union-attr]
    minor = int(re.search(r"#define CC_FFI_VERSION_MINOR (\d+)", text).group(1))  # type: ignore[union-attr]
    assert ffi.version() == (major, minor)
    assert ffi.lib.cc_ffi_version() == (major << 16) | minor


def test_status_names(ffi: ModuleType) -> None:
    names = {}
    for key in dir(ffi.lib):
        if key.startswith("CC_ERR_") or key == "CC_OK":
            code = getattr(ffi.lib, key)
            name = ffi.ffi.string(ffi.lib.cc_strerror(code)).decode()
            assert name == key.removeprefix("CC_ERR_").removeprefix("CC_").lower(), key
            names[code] = name
    assert len(names) >= 16
    assert ffi.ffi.string(ffi.lib.cc_strerror(-999)) == b"unknown"


def test_components(ffi: ModuleType, core: ModuleType) -> None:
    assert ffi.has("g711")
    assert not ffi.has("g71") and not ffi.has("") and not ffi.has("nonexistent")
    assert not ffi.lib.cc_ffi_has(ffi.ffi.NULL)
    # The ABI carries every media component the module does. The relay's control surface
    # (clutchcall_core.relay) is Python-only so far: its C ABI is open work.
    for comp in core.components:
        if comp != "relay":
            assert ffi.has(comp), comp
    assert not ffi.has("relay")


def test_g711_error_contract(ffi: ModuleType) -> None:
    lib, f = ffi.lib, ffi.ffi
    pcm = f.new("int16_t[]", [0, 100, -100, 32767])
    out = f.new("uint8_t[]", 8)
    assert lib.cc_ulaw_encode(pcm, 4, out, 3) == lib.CC_ERR_BUFFER_TOO_SMALL
    assert bytes(f.buffer(out, 8)) == bytes(8)  # nothing written on error
    assert lib.cc_ulaw_encode(f.NULL, 4, out, 8) == lib.CC_ERR_NULL_ARG
    assert lib.cc_ulaw_encode(pcm, 4, f.NULL, 8) == lib.CC_ERR_NULL_ARG
    assert lib.cc_ulaw_encode(f.NULL, 0, f.NULL, 0) == lib.CC_OK  # NULL is fine with count 0
    assert lib.cc_ulaw_encode(pcm, 4, out, 8) == lib.CC_OK
    codes = f.new("uint8_t[]", [0xFF, 0x00, 0x7F, 0x80])
    assert lib.cc_ulaw_to_alaw(codes, 4, codes, 4) == lib.CC_OK  # in place is allowed
    assert lib.cc_simd_force(b"mmx") == lib.CC_ERR_INVALID_ARG
    assert lib.cc_simd_force(f.NULL) == lib.CC_ERR_NULL_ARG
    assert lib.cc_simd_supported(b"scalar") == 1
    assert lib.cc_simd_supported(b"mmx") == 0
    assert lib.cc_simd_force(b"scalar") == lib.CC_OK
    assert ffi.simd_level() == "scalar"
    lib.cc_simd_reset()
    with pytest.raises(ffi.FfiError, match="invalid_arg"):
        ffi.force_simd_level("mmx")
