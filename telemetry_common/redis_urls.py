"""Parse the Redis URLs the system accepts: standalone, Sentinel and Cluster.

- ``redis://``, ``rediss://``, ``unix://``: one server, as redis-py reads them;
- ``redis+sentinel://[user:password@]host[:port][,host[:port]...]/<service>[/<db>][?options]``
  and ``rediss+sentinel://``: the primary (or, with ``role=replica``, a replica) that the
  sentinels name; sentinel port 26379 by default; ``sentinel_username`` and
  ``sentinel_password`` authenticate to the sentinels, other options apply to the data nodes;
- ``redis+cluster://[user:password@]host:port[,host:port...][?options]`` and
  ``rediss+cluster://``: startup nodes of a Redis Cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from redis.connection import parse_url as redis_parse_url

STANDALONE = ("redis://", "rediss://", "unix://")
SENTINEL_PORT = 26379
ROLES = {"primary": "primary", "master": "primary", "replica": "replica", "slave": "replica"}
SCHEMES = "redis://, rediss://, unix://, redis+sentinel://, rediss+sentinel://, redis+cluster:// or rediss+cluster://"
# A URL's password (``scheme://user:password@``) and the values of query options that are
# secrets (``password=``, ``sentinel_password=``, ``token=``, ``access_token=``, ``secret=``,
# ``api_key=``), wherever they appear in a text.
_USERINFO = re.compile(r"([a-z][a-z0-9+.-]*://[^:@/\s'\"]*):[^@/\s'\"]*@", re.IGNORECASE)
_SECRET = re.compile(r"((?:password|token|secret|api_key)=)[^&\s'\"]*", re.IGNORECASE)


class UrlError(ValueError):
    """The URL cannot be used; the message says what is wrong."""


@dataclass(frozen=True)
class RedisTarget:
    """Where a URL points: one server, a Sentinel-managed service, or a cluster."""

    kind: str  # "standalone", "sentinel" or "cluster"
    url: str
    hosts: tuple[tuple[str, int], ...] = ()
    service: str = ""
    role: str = "primary"
    sentinel_auth: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)  # redis-py connection arguments

    @property
    def is_cluster(self) -> bool:
        """Return whether the URL names a Redis Cluster."""
        return self.kind == "cluster"


def redacted(text: str) -> str:
    """Return ``text`` (a URL, or a message naming URLs) with every secret in it masked.

    The one helper for whatever is shown: logs (telemetry_common/logs.py), errors, status.
    """
    return _SECRET.sub(r"\1***", _USERINFO.sub(r"\1:***@", text))


def _hosts(text: str, default_port: int | None) -> tuple[tuple[str, int], ...]:
    hosts = []
    for item in text.split(","):
        match = re.fullmatch(r"(\[[0-9a-fA-F:.]+\]|[^:\[\]]+)(?::(\d+))?", item.strip())
        if match is None:
            raise UrlError(f"cannot read the host {item!r}: expected host[:port]")
        port = match.group(2)
        if port is None and default_port is None:
            raise UrlError(f"the host {item!r} has no port: expected host:port")
        number = int(port) if port is not None else default_port
        if number is None or not 0 < number < 65536:
            raise UrlError(f"the port of {item!r} is not in 1..65535")
        hosts.append((match.group(1).strip("[]"), number))
    return tuple(hosts)


def _node_options(
    tls: bool, userinfo: str, db: int, query: list[tuple[str, str]]
) -> dict[str, Any]:
    """Return redis-py's connection arguments for the data nodes, checked by redis-py itself."""
    auth = f"{userinfo}@" if userinfo else ""
    scheme = "rediss" if tls else "redis"
    try:
        options = redis_parse_url(f"{scheme}://{auth}localhost/{db}?{urlencode(query)}")  # type: ignore[no-untyped-call,unused-ignore]
    except ValueError as exc:
        raise UrlError(str(exc)) from None
    for name in ("host", "port"):
        options.pop(name, None)
    if tls:
        options["ssl"] = True
    return dict(options)


def parse(url: str) -> RedisTarget:
    """Return what ``url`` points at; raise UrlError saying what is wrong."""
    if url.startswith(STANDALONE):
        try:
            redis_parse_url(url)  # type: ignore[no-untyped-call,unused-ignore]
        except ValueError as exc:
            raise UrlError(str(exc)) from None
        return RedisTarget("standalone", url)
    scheme, sep, rest = url.partition("://")
    kinds = {"redis+sentinel": "sentinel", "rediss+sentinel": "sentinel"}
    kinds |= {"redis+cluster": "cluster", "rediss+cluster": "cluster"}
    if not sep or scheme not in kinds:
        raise UrlError(f"expected a {SCHEMES} URL")
    kind, tls = kinds[scheme], scheme.startswith("rediss")
    rest, _, query_text = rest.partition("?")
    netloc, _, path = rest.partition("/")
    userinfo, _, hostlist = netloc.rpartition("@")
    if not hostlist:
        raise UrlError("no host: expected at least one host[:port] after ://")
    query = parse_qsl(query_text, keep_blank_values=True)
    if kind == "cluster":
        if path.strip("/") not in ("", "0"):
            raise UrlError("a Redis Cluster has only database 0: drop the path")
        options = _node_options(tls, userinfo, 0, query)
        options.pop("db", None)  # RedisCluster refuses the argument
        return RedisTarget(kind, url, _hosts(hostlist, None), options=options)
    parts = [part for part in path.split("/") if part]
    if not parts or len(parts) > 2:
        raise UrlError("expected /<service>[/<db>] after the sentinel hosts")
    if len(parts) == 2 and not parts[1].isdigit():
        raise UrlError(f"the database {parts[1]!r} is not a whole number")
    sentinel_auth, role, rest_query = {}, "primary", []
    for name, value in query:
        if name in ("sentinel_username", "sentinel_password"):
            sentinel_auth[name.removeprefix("sentinel_")] = value  # parse_qsl decoded it
        elif name == "role":
            if value not in ROLES:
                raise UrlError(f"role={value!r}: expected primary or replica")
            role = ROLES[value]
        else:
            rest_query.append((name, value))
    db = int(parts[1]) if len(parts) == 2 else 0
    options = _node_options(tls, userinfo, db, rest_query)
    hosts = _hosts(hostlist, SENTINEL_PORT)
    return RedisTarget(kind, url, hosts, unquote(parts[0]), role, sentinel_auth, options)
