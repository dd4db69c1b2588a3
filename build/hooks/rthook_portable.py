"""PyInstaller runtime hook: keep a portable install's bytes on the stick.

Runs before the app's code. When a ``qorven-data/`` folder sits beside the executable (and no
``QORVEN_HOME`` overrides it), temporary files (waitress spools large request bodies to disk)
go to ``qorven-data/tmp`` instead of the machine's temp dir, and nothing writes bytecode caches.
PyInstaller's own unpack dir is made by the bootloader before this runs and is removed at exit.
"""

import os
import sys
import tempfile

sys.dont_write_bytecode = True
_data = os.path.join(os.path.dirname(os.path.abspath(sys.executable)), "qorven-data")
if not os.environ.get("QORVEN_HOME") and os.path.isdir(_data):
    _tmp = os.path.join(_data, "tmp")
    try:
        os.makedirs(_tmp, exist_ok=True)
        tempfile.tempdir = _tmp
        os.environ["TMPDIR"] = _tmp  # for libraries (and child processes) that read it themselves
    except OSError:
        pass  # read-only stick: the system temp dir it is
