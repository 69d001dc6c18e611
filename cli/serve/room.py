"""The room's rules, apart from the web server: who may come in, how many at once, what each session gets.

A request is let in by the access token (when the room has one) and, on a room without one, only by a
loopback name: a web page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) or opens a
websocket to it from its own origin is refused. Sessions are known by a random code kept in a cookie.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

TOKEN_ENV = "SEQLM_SERVE_TOKEN"
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: a code may be read out or typed
CODE_LENGTH = 10
_CODE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    if host in ("localhost", "ip6-localhost") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def hostname(netloc: str) -> str:
    """The host part of a Host header or URL authority ("[::1]:8000" -> "::1")."""
    return urlsplit(f"//{netloc}").hostname or ""


def default_max_sessions(cores: int | None = None) -> int:
    return max(2, cores or os.cpu_count() or 1)


def thread_share(sessions: int, cores: int | None = None) -> int:
    """Each session's torch threads: the cores shared out among a full room, at least one."""
    return max(1, (cores or os.cpu_count() or 1) // max(1, sessions))


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def valid_code(text: str | None) -> bool:
    """A code the room could have made: anything else (a path, a guess with other letters) is not one."""
    return bool(text) and _CODE.fullmatch(text) is not None


@dataclass
class Rules:
    host: str
    port: int
    max_sessions: int
    idle_s: float
    folder: Path                # the room's checkpoint folder (shared); sessions save into subfolders
    token: str | None = None    # None: an open room (loopback only)
    public_url: str | None = None
    app_args: list[str] = field(default_factory=list)

    @property
    def threads(self) -> int:
        return thread_share(self.max_sessions)

    def session_folder(self, code: str) -> Path:
        return self.folder / f"session-{code}"

    def token_ok(self, given: str | None) -> bool:
        return self.token is None or (given is not None and hmac.compare_digest(given.encode(), self.token.encode()))

    def host_ok(self, host_header: str) -> bool:
        """An open room answers only to a loopback name or to its public URL's: another name pointed at this
        machine is a page elsewhere trying to reach it. A room with a token answers to any name."""
        if self.token is not None:
            return True
        name = hostname(host_header)
        return is_loopback(name) or (self.public_url is not None and name == urlsplit(self.public_url).hostname)

    def origin_ok(self, origin: str | None, host_header: str) -> bool:
        """A browser's websocket must come from the room's own page (a page elsewhere would drive a session
        with the visitor's cookies). No Origin: not a browser, and it still needed the token."""
        if not origin:
            return True
        netloc = urlsplit(origin).netloc
        return netloc == host_header or (self.public_url is not None and netloc == urlsplit(self.public_url).netloc)

    def url(self, shown_host: str | None = None) -> str:
        """The address to give the students, with the token when there is one."""
        if self.public_url:
            base = self.public_url if self.public_url.endswith("/") else self.public_url + "/"
        else:
            host = shown_host or self.host
            base = f"http://{'[' + host + ']' if ':' in host else host}:{self.port}/"
        return base + (f"?token={self.token}" if self.token else "")


def choose_token(host: str, public_url: str | None, given: str | None) -> str | None:
    """The room's token: the one given (flag, else $SEQLM_SERVE_TOKEN); else a fresh one whenever the room
    can be reached from elsewhere (a non-loopback address, or a public URL in front of it); else none."""
    given = given or os.environ.get(TOKEN_ENV) or None
    if given:
        return given
    exposed = not is_loopback(host) or (public_url is not None and not is_loopback(urlsplit(public_url).hostname or ""))
    return secrets.token_urlsafe(12) if exposed else None
