"""Start-up stays light: serving imports none of the heavy libraries only some requests need.

httpx (with httpcore and its click/rich CLI), jsonschema and cryptography are imported where they are
first used (a provider call, a request body validated, a secret decrypted), not at module top. This
runs what ``qorven serve`` and ``app.py --headless`` run, in a fresh interpreter, and names any
of them that got imported anyway.

urllib.request is not checked: falcon imports it (``falcon._typing`` -> ``http.cookiejar``).

The ``qorven`` command itself (``qorven agents list``, ``--help``) imports not even the app: the
commands that need it (serve, auth, memory reindex/import/export) import it when they run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.servers import REPO

HEAVY = ("httpx", "httpcore", "jsonschema", "cryptography", "click", "rich")

SCRIPT = f"""
import json, sys
import qorven_local.desktop.launcher, qorven_local.runtime, qorven_local.cli.main
from qorven_local.config import load_config
from qorven_local.runtime import Runtime

runtime = Runtime(load_config({{"home": sys.argv[1], "port": "0"}}, env={{}}))
runtime.start()
runtime.stop()
print(json.dumps(sorted(name for name in {HEAVY!r} if name in sys.modules)))
"""

PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def test_serving_imports_no_heavy_library(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("QORVEN_") and k.lower() not in PROXY_VARS}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "home")], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert imported == [], (f"start-up imported {', '.join(imported)}; import it where it is first used "
                            f"(see the module docstrings that say 'imported on first use')")


APP = ("qorven_local.bootstrap", "qorven_local.runtime", "numpy", "falcon", "sqlite_vec", "httpx")
CLI_SCRIPT = f"""
import json, sys
from qorven_local.cli.main import build_parser
build_parser()
print(json.dumps(sorted(name for name in {APP!r} if name in sys.modules)))
"""


def test_the_cli_parses_its_commands_without_importing_the_app():
    done = subprocess.run([sys.executable, "-c", CLI_SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert imported == [], f"building the qorven command's parser imported {', '.join(imported)}"
