"""Entry point of the one-file executable: the desktop app, or a ``qorven`` CLI command.

``qorven`` (double-click) opens the window; ``qorven --headless --port P --home DIR`` serves only
(both handled by ``app.py``'s launcher). ``qorven doctor``, ``qorven db check`` and the other
``qorven`` subcommands run the CLI, so a stick carries its own tools.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from qorven_local.cli.main import COMMANDS

    if argv and argv[0] in {name for name, *_ in COMMANDS}:
        from qorven_local.cli.main import main as cli_main
        return cli_main(argv)
    from qorven_local.desktop.launcher import main as desktop_main
    return desktop_main(argv)


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()  # a frozen child must not re-run the app
    sys.exit(main(sys.argv[1:]))
