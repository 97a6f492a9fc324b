"""``telemetry redis-acl``: print a Redis ACL file with one user per role, least privilege.

- ``telemetry-refresher`` writes the snapshots and runs the refresh queue: every key under
  the prefix and RQ's (``rq:*``, RQ's own fixed prefix) and RQ's channels; no admin command.
- ``telemetry-api`` reads the snapshot keys and writes one key only, the refresh request of a
  cold miss (``Keys.refresh_request``), which the leading refresher turns into its own RQ job:
  the API cannot reach the queue, whose jobs name the code a worker runs. Its scripts run as
  ``EVALSHA``, which Redis counts as reading and writing its keys, so the keys under the prefix
  are the API's, and what it may do with them is in the commands: reads, and ``SET`` in a
  selector that matches the request key alone. A script runs with its caller's rights.
- ``telemetry-reader`` reads the snapshot keys and RQ's, for ``redis-cli`` and ``telemetry
  status``.

Passwords come from the environment and are written only as their SHA-256 (``#<hex>``); the
default user is switched off. docs/security.md gives each right's reason.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections.abc import Mapping

from telemetry_common.keys import Keys
from telemetry_common.options import add_setting_options, resolve_settings
from telemetry_common.settings import ConfigError, environ
from telemetry_common.variables import KEY_PREFIX

HELP = "Print a Redis ACL file: a user for the refresher, the API and read-only inspection."
EPILOG = (
    "Passwords are read from TELEMETRY_REFRESHER_PASSWORD, TELEMETRY_API_PASSWORD and "
    "TELEMETRY_READER_PASSWORD and written as SHA-256 only; TELEMETRY_REPLICA_PASSWORD and "
    "TELEMETRY_SENTINEL_PASSWORD, when set, add a user for replication and one for the "
    "sentinels. Load the file with Redis's "
    "'aclfile' setting (then ACL LOAD). Exit status 2 when a password is missing."
)
SETTINGS = (KEY_PREFIX,)
PASSWORDS = {
    "telemetry-refresher": "TELEMETRY_REFRESHER_PASSWORD",
    "telemetry-api": "TELEMETRY_API_PASSWORD",
    "telemetry-reader": "TELEMETRY_READER_PASSWORD",
}
# Users of the Redis processes themselves, written when their password is set: a replica's
# ``masteruser`` and the sentinels' ``sentinel auth-user`` (rights as Redis's documentation
# gives them for each).
INFRASTRUCTURE = {
    "telemetry-replica": ("TELEMETRY_REPLICA_PASSWORD", "+psync +replconf +ping"),
    "telemetry-sentinel": (
        "TELEMETRY_SENTINEL_PASSWORD",
        "allchannels +multi +slaveof +ping +exec +subscribe +config|rewrite +role +publish "
        "+info +client|setname +client|kill +script|kill",
    ),
}
# Every role: a connection's own commands, and how clients learn a cluster's or server's shape.
CONNECTION = "+@connection -client +client|setname +client|id +client|info +info"
CLUSTER = "+cluster|slots +cluster|shards +cluster|nodes +readonly"
# Reading a snapshot: the read commands and the read-only scripts of telemetry_common/reader.py.
READ = "+@read -keys -scan +evalsha +script|load +script|exists"
RIGHTS = {
    "telemetry-refresher": (
        "+@read +@write +@keyspace +@list +@hash +@set +@sortedset +@string +@scripting "
        "+@transaction +@pubsub -@dangerous +time +unlink"
    ),
    "telemetry-api": READ,
    "telemetry-reader": f"{READ} +scan +type",
}


def _pattern(text: str) -> str:
    """Return ``text`` as a Redis glob matching itself only."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def render(prefix: str, passwords: Mapping[str, str]) -> str:
    """Return the ACL file for ``prefix``, each user with the SHA-256 of its password.

    ``passwords`` names each role's; a replica or sentinel user is written when it has one.
    """
    if not prefix or re.search(r"\s", prefix):
        raise ConfigError(f"the key prefix {prefix!r} cannot be used in an ACL: no spaces")
    keys, mine = Keys(prefix), _pattern(prefix) + ":*"
    scope = {
        "telemetry-refresher": f"~{mine} ~rq:* &rq:*",
        "telemetry-api": f"~{mine}",
        "telemetry-reader": f"~{mine} %R~rq:*",
    }
    select = {"telemetry-api": f" (%W~{_pattern(keys.refresh_request)} +set)"}
    lines = ["user default off"]
    for user, rights in RIGHTS.items():
        digest = hashlib.sha256(passwords[user].encode()).hexdigest()
        lines.append(
            f"user {user} on #{digest} resetkeys resetchannels {scope[user]} "
            f"-@all {rights} {CONNECTION} {CLUSTER}{select.get(user, '')}"
        )
    for user, (_variable, rights) in INFRASTRUCTURE.items():
        if passwords.get(user):
            digest = hashlib.sha256(passwords[user].encode()).hexdigest()
            lines.append(f"user {user} on #{digest} resetkeys resetchannels -@all {rights}")
    return "\n".join(lines) + "\n"


def passwords_from(env: Mapping[str, str]) -> dict[str, str]:
    """Return each user's password from ``env``; raise ConfigError naming a missing variable."""
    missing = [variable for variable in PASSWORDS.values() if not env.get(variable)]
    if missing:
        raise ConfigError(f"set {', '.join(missing)}: each user needs a password")
    found = {user: env[variable] for user, variable in PASSWORDS.items()}
    return found | {
        user: env[variable] for user, (variable, _) in INFRASTRUCTURE.items() if env.get(variable)
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the key prefix option."""
    parser.epilog = EPILOG
    add_setting_options(parser, SETTINGS)


def run(args: argparse.Namespace) -> int:
    """Print the ACL file; return 0, or 2 on a missing password or a bad prefix."""
    env = dict(environ())
    prefix = resolve_settings(args, env, SETTINGS, KEY_PREFIX.read)
    sys.stdout.write(render(prefix, passwords_from(env)))
    return 0
