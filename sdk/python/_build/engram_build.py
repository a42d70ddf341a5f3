"""A PEP 517 build backend in the standard library, so that ``pip install sdk/python`` works
offline on any Python 3.8+: it needs neither setuptools nor wheel. Some interpreters have
setuptools without ``wheel`` (pyenv builds, for example). setuptools older than 70.1 cannot
build a wheel there, and pip cannot fetch the missing package on a machine with no PyPI. The
package is pure Python, so writing the wheel ourselves (a zip with a dist-info folder, as PEP 427
specifies) is simpler than depending on either tool.

Hooks: build_wheel, build_sdist, build_editable (PEP 660, a .pth file), and the optional
get_requires_* hooks (nothing is required).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import time
import zipfile
from pathlib import Path

NAME = "engram"
VERSION = "0.1.0"
ROOT = Path(__file__).resolve().parent.parent
TAG = "py3-none-any"
DIST_INFO = f"{NAME}-{VERSION}.dist-info"
SUMMARY = ("Python client for engram, persistent memory for LLM applications "
           "(standard library only)")


def _metadata() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return (f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\nSummary: {SUMMARY}\n"
            "License: MIT\nRequires-Python: >=3.8\nClassifier: Framework :: AsyncIO\n"
            "Classifier: Typing :: Typed\nDescription-Content-Type: text/markdown\n\n" + readme)


def _wheel_file() -> str:
    return f"Wheel-Version: 1.0\nGenerator: engram_build\nRoot-Is-Purelib: true\nTag: {TAG}\n"


def _package_files():
    pkg = ROOT / NAME
    for p in sorted(pkg.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in (".py", ".typed"):
            yield p.relative_to(ROOT).as_posix(), p.read_bytes()


def _write_wheel(directory: str, files) -> str:
    name = f"{NAME}-{VERSION}-{TAG}.whl"
    records = []
    stamp = (1980, 1, 1, 0, 0, 0)  # reproducible
    with zipfile.ZipFile(os.path.join(directory, name), "w", zipfile.ZIP_DEFLATED) as zf:
        def add(arcname: str, data: bytes) -> None:
            zi = zipfile.ZipInfo(arcname, stamp)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            records.append(f"{arcname},sha256={digest.decode()},{len(data)}")

        for arcname, data in files:
            add(arcname, data)
        add(f"{DIST_INFO}/METADATA", _metadata().encode("utf-8"))
        add(f"{DIST_INFO}/WHEEL", _wheel_file().encode())
        add(f"{DIST_INFO}/top_level.txt", f"{NAME}\n".encode())
        records.append(f"{DIST_INFO}/RECORD,,")
        zi = zipfile.ZipInfo(f"{DIST_INFO}/RECORD", stamp)
        zi.external_attr = 0o644 << 16
        zf.writestr(zi, "\n".join(records) + "\n")
    return name


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, _package_files())


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    pth = (str(ROOT) + "\n").encode()
    return _write_wheel(wheel_directory, [(f"__editable__.{NAME}.pth", pth)])


def build_sdist(sdist_directory, config_settings=None):
    base = f"{NAME}-{VERSION}"
    name = f"{base}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as tf:
        def add(arcname: str, data: bytes) -> None:
            ti = tarfile.TarInfo(f"{base}/{arcname}")
            ti.size = len(data)
            ti.mtime = int(time.time())
            ti.mode = 0o644
            tf.addfile(ti, io.BytesIO(data))

        for rel in ("pyproject.toml", "README.md", "_build/engram_build.py"):
            add(rel, (ROOT / rel).read_bytes())
        for arcname, data in _package_files():
            add(arcname, data)
        add("PKG-INFO", _metadata().encode("utf-8"))
    return name
