"""``qorven models import FILE.gguf``: copies into <data root>/models with a checksum; refuses bad files."""

from __future__ import annotations

import hashlib
import json

import pytest

from qorven_local.cli.main import main


def test_cli_import_copies_with_checksum(tmp_path, tiny_gguf, capsys):
    home = tmp_path / "root"
    (home / "downloads").mkdir(parents=True)
    src = home / "downloads" / "my-model.Q8_0.gguf"
    src.write_bytes(tiny_gguf.read_bytes())
    assert main(["models", "import", str(src), "--home", str(home), "--json"]) == 0
    out = capsys.readouterr()
    result = json.loads(out.out)
    assert result["model"] == "my-model.Q8_0" and result["file"] == "my-model.Q8_0.gguf"
    assert result["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert (home / "models" / "my-model.Q8_0.gguf").read_bytes() == src.read_bytes()
    assert f"import my-model.Q8_0.gguf: {src.stat().st_size}/{src.stat().st_size} bytes" in out.err  # progress


def test_cli_import_refuses_a_non_gguf_file(tmp_path, capsys):
    home = tmp_path / "root"
    home.mkdir()
    (home / "readme.gguf").write_text("hello")
    with pytest.raises(SystemExit) as exit_:
        main(["models", "import", str(home / "readme.gguf"), "--home", str(home)])
    assert exit_.value.code == 2
    assert "not a GGUF model" in capsys.readouterr().err
    assert not (home / "models" / "readme.gguf").exists()
