"""``qorven doctor``: every check reported, nothing written to the data root."""

from __future__ import annotations

import json
import socket

from tests.cli.conftest import run_qorven


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_doctor_reports_each_check_and_writes_nothing(tmp_path):
    home = tmp_path / "home"
    out = run_qorven("doctor", "--home", str(home), "--port", str(free_port()), env={"DISPLAY": ""})
    assert out.returncode == 0, out.stdout + out.stderr
    lines = {line.split()[1]: line for line in out.stdout.splitlines()[1:] if line.strip()}
    for name in ("sqlite", "extensions", "vec0", "model", "data", "database", "port", "gui"):
        assert name in lines, out.stdout
    assert lines["sqlite"].startswith("OK") and "FTS5" in lines["sqlite"]
    assert lines["vec0"].startswith("OK") and "KNN query works" in lines["vec0"]
    assert lines["model"].startswith("OK") and "384 dims" in lines["model"]
    assert lines["gui"].startswith("WARN") and "browser" in lines["gui"]
    assert not home.exists()  # a doctor only reads


def test_doctor_knows_a_running_qorven_on_the_port(server):
    out = run_qorven("doctor", "--json", "--no-embed", "--home", str(server.home), "--port", str(server.port))
    assert out.returncode == 0, out.stderr
    findings = {f["name"]: f for f in json.loads(out.stdout)}
    assert findings["port"]["status"] == "ok" and "already running" in findings["port"]["detail"]
    assert findings["database"]["status"] == "ok" and "schema up to date" in findings["database"]["detail"]
