"""Trim the Linux one-file build: the desktop window uses the system's GTK, not a bundled copy.

pywebview's GTK backend needs the system's WebKitGTK at run time anyway (it is far too big to ship),
and WebKitGTK brings GTK, GLib, Cairo, ICU and the rest with it. PyInstaller's gi hooks would
still bundle ~95 MB of those libraries plus ~6,000 icon, theme and locale files, unpacked to the
temp dir on every start (317 MB, thousands of files: most of the start time). So on Linux we keep
the ``gi`` bindings but drop the GTK stack, its data and its runtime hooks; gi then loads the
system's libraries and typelibs. Without GTK/WebKitGTK on the machine, ``import gi`` fails and the
app opens the browser instead, as it does for any missing GUI backend.

The system libraries plain Python needs (OpenSSL, libffi, zlib, ...) stay bundled; ``check_needs``
fails the build if any kept binary needs a library that is neither bundled nor part of glibc.
"""

from __future__ import annotations

import os
from typing import Iterable

# System libraries the non-GUI part needs (CPython's own extension modules, the C++ runtime).
KEEP_SYSTEM_LIBS = {
    "libcrypto.so.3", "libssl.so.3", "libffi.so.8", "libz.so.1", "liblzma.so.5", "libbz2.so.1.0",
    "libreadline.so.8", "libtinfo.so.6", "libuuid.so.1", "libexpat.so.1", "libsqlite3.so.0",
    "libstdc++.so.6", "libgcc_s.so.1", "libmpdec.so.3", "libncursesw.so.6", "libpanelw.so.6",
    "libgdbm.so.6", "libgdbm_compat.so.4", "libnsl.so.2", "libtirpc.so.3",
    "libgomp.so.1",  # OpenMP runtime of llama.cpp (the optional local-model runtime), when bundled
}
GLIBC = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1",
         "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "libresolv.so.2", "libcrypt.so.1", "libanl.so.1"}
GTK_DATA_PREFIXES = ("share/", "gi_typelibs/", "gio_modules/", "lib/gdk-pixbuf", "etc/gtk", "etc/fonts")
GTK_RUNTIME_HOOKS = {"pyi_rth_gi", "pyi_rth_gio", "pyi_rth_glib", "pyi_rth_gtk", "pyi_rth_gdkpixbuf"}
GI_EXTENSIONS = ("gi/",)  # load the system's GLib/GObject/girepository at run time
SYSTEM_DIRS = ("/usr/lib", "/lib", "/usr/lib64", "/lib64")


def _is_system(src: str) -> bool:
    return os.path.isabs(src) and src.startswith(SYSTEM_DIRS) and "site-packages" not in src


def system_gtk_only(binaries: list, datas: list, scripts: list, *, drop_tzdata: bool = True):
    """(binaries, datas, scripts, dropped bytes) without the bundled GTK stack (see module docstring).

    ``drop_tzdata``: Linux and macOS read /usr/share/zoneinfo; the tzdata wheel's 1,250 files are for
    Windows (they would be unpacked on every start).
    """
    dropped = 0
    kept_binaries = []
    for entry in binaries:
        dest, src = entry[0], entry[1]
        name = os.path.basename(dest)
        gtk_module_dir = dest.startswith(("gio_modules/", "lib/gdk-pixbuf"))
        if gtk_module_dir or (_is_system(src) and name not in KEEP_SYSTEM_LIBS):
            dropped += _size(src)
            continue
        kept_binaries.append(entry)
    kept_datas = []
    for entry in datas:
        dest, src = entry[0], entry[1]
        if dest.startswith(GTK_DATA_PREFIXES) or (drop_tzdata and dest.startswith("tzdata/")):
            dropped += _size(src)
            continue
        kept_datas.append(entry)
    kept_scripts = [s for s in scripts if s[0] not in GTK_RUNTIME_HOOKS]
    return kept_binaries, kept_datas, kept_scripts, dropped


def check_needs(binaries: Iterable, get_imports) -> list[str]:
    """'<binary> needs <lib>' for each library a kept binary links that the bundle will not have."""
    bundled = {os.path.basename(entry[0]) for entry in binaries}
    missing = []
    for entry in binaries:
        dest, src = entry[0], entry[1]
        if dest.startswith(GI_EXTENSIONS) or not os.path.isfile(src):
            continue
        for needed, _resolved in get_imports(src):
            base = os.path.basename(needed)
            if base not in bundled and base not in GLIBC:
                missing.append(f"{dest} needs {base}")
    return missing


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def versioned_copies_as_symlinks(binaries: list) -> tuple[list, int]:
    """(binaries, dropped bytes) with a wheel's ``libX.so.0``/``libX.so.0.5.0`` copies made symlinks.

    Wheels cannot hold symlinks, so llama.cpp's wheel carries three identical copies of each library
    (``libllama.so``, ``.so.0``, ``.so.0.5.0``: 25 MB unpacked on every start). ctypes opens the
    plain ``.so``, the libraries link each other by soname (``.so.0``): keep the plain file, make
    the soname a symlink to it (PyInstaller unpacks symlinks as symlinks), drop the fully versioned
    name nobody opens.
    """
    by_dest = {entry[0]: entry for entry in binaries}
    kept, dropped = [], 0
    for entry in binaries:
        dest, src = entry[0], entry[1]
        folder, name = os.path.split(dest)
        stem, dot_so, version = name.partition(".so.")
        plain = os.path.join(folder, stem + ".so") if dot_so and version else None
        if plain is None or plain not in by_dest or _size(src) != _size(by_dest[plain][1]):
            kept.append(entry)
            continue
        dropped += _size(src)
        if version.isdigit():  # the soname: other libraries' DT_NEEDED name it
            kept.append((dest, stem + ".so", "SYMLINK"))
    return kept, dropped
