"""``qorven auth``: rotate the admin token, create, list and revoke tokens (works on the local database)."""

from __future__ import annotations

import argparse
import sys

from qorven_local.cli.common import add_home_flag, fail, local_config
from qorven_local.cli.remote import print_json, print_table
from qorven_local.config import DEFAULT_TENANT
from qorven_local.errors import QorvenError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="auth_command", metavar="ACTION", required=True)
    rotate = sub.add_parser("rotate-token", help="Print a new admin token and revoke the old one.")
    rotate.add_argument("--label", default=None, help="A label for the new token.")
    rotate.add_argument("--grace", type=int, default=0,
                        help="Seconds the previous admin token keeps working (default 0: revoked now).")
    rotate.add_argument("--tenant", default=DEFAULT_TENANT, help="Tenant (default: default).")
    add_home_flag(rotate)
    create = sub.add_parser("create-token", help="Print a new token for a tenant (created on first use).")
    create.add_argument("--tenant", required=True, help="Tenant slug.")
    create.add_argument("--scope", choices=("user", "admin"), default="user")
    create.add_argument("--label", default=None)
    add_home_flag(create)
    listing = sub.add_parser("list-tokens", help="List a tenant's tokens (never the tokens themselves).")
    listing.add_argument("--tenant", default=DEFAULT_TENANT, help="Tenant (default: default).")
    listing.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    add_home_flag(listing)
    revoke = sub.add_parser("revoke-token", help="Revoke a token now, by its id (tok_..., from list-tokens).")
    revoke.add_argument("token_id", metavar="ID")
    add_home_flag(revoke)

TOKEN_COLUMNS = [("ID", "id"), ("TENANT", "tenant_id"), ("SCOPE", "scope"), ("KIND", "kind"), ("LABEL", "label"),
                 ("TOKEN", "hint"), ("CREATED", "created_at"), ("LAST USED", "last_used_at"),
                 ("REVOKED", "revoked_at"), ("GRACE ENDS", "revoke_after"), ("EXPIRES", "expires_at")]


def run(args: argparse.Namespace) -> int:
    config = local_config(args)
    from qorven_local.bootstrap import build_context  # the whole app: only when run

    ctx = build_context(config)
    try:
        if args.auth_command == "rotate-token":
            token, revoke_at = ctx.tokens.rotate_admin(args.tenant, args.label, args.grace)
            print(token)
            print(f"(previous admin token(s) revoked {'now' if args.grace == 0 else 'at ' + revoke_at})",
                  file=sys.stderr)
        elif args.auth_command == "list-tokens":
            tokens = [t.to_dict() for t in ctx.tokens.list_all(args.tenant)]
            print_json(tokens) if args.json else print_table(tokens, TOKEN_COLUMNS)
        elif args.auth_command == "revoke-token":
            info = ctx.tokens.revoke_one(args.token_id, tenant_id=None)
            print(f"revoked {info.id} ({info.scope} token of {info.tenant_id}, {info.label or 'no label'})")
        else:
            print(ctx.tokens.issue(args.tenant, args.scope, args.label))
    except QorvenError as exc:
        fail(exc.message)
    finally:
        ctx.db.close()
    return 0
