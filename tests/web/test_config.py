"""Settings resolve CLI > env > default, each is documented, and the data root is chosen as promised."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from qorven_local.config import SETTINGS, load_config, resolve_home

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented_in_readme_and_help():
    readme = README.read_text()
    help_text = subprocess.run([sys.executable, "-m", "qorven_local.cli.main", "serve", "--help"],
                               capture_output=True, text=True, check=True).stdout
    for s in SETTINGS:
        assert s.help, s.name
        assert f"`{s.env}`" in readme, f"{s.env} missing from README's settings table"
        assert f"`{s.flag}`" in readme, f"{s.flag} missing from README's settings table"
        assert s.flag in help_text and s.env in help_text


def test_cli_beats_env_beats_default(tmp_path):
    env = {"QORVEN_PORT": "9000", "QORVEN_THREADS": "7", "QORVEN_HOME": str(tmp_path / "env")}
    cfg = load_config({"port": "9100"}, env=env)
    assert cfg.port == 9100 and cfg.sources["port"] == "cli"
    assert cfg.threads == 7 and cfg.sources["threads"] == "env"
    assert cfg.rate_ip_burst == 20 and cfg.sources["rate_ip_burst"] == "default"
    assert cfg.home == (tmp_path / "env").resolve()
    assert load_config({}, env={"QORVEN_ALLOWED_HOSTS": "a.lan, b.lan:80"}).allowed_hosts == ("a.lan", "b.lan:80")
    with pytest.raises(ValueError, match="QORVEN_PORT"):
        load_config({}, env={"QORVEN_PORT": "eighty"})


def test_data_root_order(tmp_path):
    exe_dir = tmp_path / "stick"
    exe_dir.mkdir()
    home, portable = resolve_home(None, beside=exe_dir)
    assert not portable and "qorven-local" in str(home)          # platformdirs user data dir
    (exe_dir / "qorven-data").mkdir()
    home, portable = resolve_home(None, beside=exe_dir)
    assert portable and home == (exe_dir / "qorven-data").resolve()  # portable folder wins
    home, portable = resolve_home(tmp_path / "explicit", beside=exe_dir)
    assert not portable and home == (tmp_path / "explicit").resolve()  # QORVEN_HOME / --home wins


def test_everything_is_written_under_the_data_root(tmp_path):
    from tests.support.servers import InProcessServer
    home = tmp_path / "root"
    with InProcessServer(home) as srv:
        with srv.client() as api:
            assert api.get("/v1/settings").json()["data_root"] == str(home)
    names = {p.name for p in home.iterdir()}
    assert {"qorven.db", "admin-token", "workspace", "logs"} <= names
    assert [p for p in tmp_path.iterdir()] == [home]
