"""``qorven memory search|save`` (the API-backed memory subcommands) against a real server."""

from __future__ import annotations

import argparse
import json

from qorven_local.cli.memory_remote import add_search_save, run_search_save


def qorven_memory(server, capsys, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="qorven memory")
    add_search_save(parser.add_subparsers(dest="memory_command", required=True))
    args = parser.parse_args([*argv, "--server", server.url, "--token", server.admin_token])
    code = run_search_save(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_save_then_search_by_meaning(server, capsys):
    code, out, _ = qorven_memory(server, capsys, "save", "Ada prefers tea over coffee", "--kind", "preference",
                                 "--agent", "prime")
    assert code == 0 and out.startswith("saved mem_") and "(agent, preference)" in out
    code, out, _ = qorven_memory(server, capsys, "save", "Ada prefers tea over coffee", "--kind", "preference",
                                 "--agent", "prime")
    assert code == 0 and out.startswith("updated mem_")
    qorven_memory(server, capsys, "save", "Invoices go out on the first Monday")
    code, out, _ = qorven_memory(server, capsys, "search", "what does Ada drink?", "--agent", "prime")
    header, first, *_ = out.splitlines()
    assert code == 0 and header.split()[:3] == ["SCORE", "ID", "KIND"] and "Ada prefers tea" in first
    code, out, _ = qorven_memory(server, capsys, "search", "invoices", "--json", "-n", "1")
    assert code == 0 and [m["content"] for m in json.loads(out)] == ["Invoices go out on the first Monday"]


def test_unknown_agent_is_one_error_line(server, capsys):
    code, _, err = qorven_memory(server, capsys, "search", "x", "--agent", "nobody")
    assert code == 1 and err.startswith("qorven: not_found:")


def test_qorven_memory_save_and_search_as_commands(qorven):
    saved = qorven("memory", "save", "The stick's code word is heliotrope", "--kind", "fact")
    assert saved.returncode == 0, saved.stderr
    found = qorven("memory", "search", "which code word?", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["content"] == "The stick's code word is heliotrope"
