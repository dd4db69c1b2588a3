"""``qorven login``: print (and with ``--open``, open) a fresh one-click sign-in link for the local server.

It writes a single-use code into the data root's database, which the running server reads, so it
needs no token: whoever may read this data root may sign in. The URL is the running app's
(``instance.json``), else ``$QORVEN_SERVER``, else the configured port.
"""

from __future__ import annotations

import argparse
import threading
import webbrowser

from qorven_local.cli.common import add_home_flag, local_config
from qorven_local.cli.serve import sign_in_line
from qorven_local.client import default_server


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--open", action="store_true", help="Also open the link in the default browser.")
    parser.add_argument("--server", default=None, help="The server's base URL [default: the running app's, "
                                                       "else $QORVEN_SERVER, else http://127.0.0.1:<port>]")
    add_home_flag(parser)


def run(args: argparse.Namespace) -> int:
    config = local_config(args)
    from qorven_local.bootstrap import build_context  # the whole app: only when run

    ctx = build_context(config)
    try:
        link = ctx.browser_sessions.login_link(args.server or default_server(config.home))
    finally:
        ctx.db.close()
    print(sign_in_line(link), flush=True)
    if args.open:
        opener = threading.Thread(target=webbrowser.open, args=(link,))
        opener.start()
        opener.join(10)
    return 0
