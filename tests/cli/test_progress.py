"""The CLI's one progress bar: a callback for long work, quiet lines in logs, drawn in place on a terminal."""

from __future__ import annotations

import io

from qorven_local.cli.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_log_it_writes_the_finished_bar_and_one_summary():
    log = io.StringIO()
    with ProgressBar(0, "reindex", stream=log) as bar:
        for done in range(6):
            bar(done, 5)  # used as a progress(done, total) callback
    lines = log.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("reindex [" + "#" * 30 + "] 100.0% (5/5,")
    assert lines[1].startswith("reindex: 5/5 in ")


def test_on_a_terminal_it_redraws_one_line():
    screen = Terminal()
    with ProgressBar(3, "backup", unit="pages", stream=screen, min_interval=0) as bar:
        bar.advance()
        bar.advance(2)
    out = screen.getvalue()
    assert out.count("\n") == 1 and out.count("\r") == 4  # start, two updates, final
    assert "backup [" + "#" * 30 + "] 100.0% (3/3 pages," in out
