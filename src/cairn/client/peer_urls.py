"""The check etcd's client makes on peer URLs before adding or updating a
member (clientv3 fails fast rather than let the cluster store a URL its
peers cannot dial), with the texts Go's net/url and etcd's types.NewURLs
give: each URL, spaces trimmed, must parse, have scheme http, https, unix
or unixs, a ``host:port`` address and no path.

Only the parts of Go's url.Parse that can reject a URL are followed here;
what they accept (queries, fragments, user info) is ignored, as etcd
ignores it.
"""

from __future__ import annotations

from .errors import ClientError

_SCHEMES = ("http", "https", "unix", "unixs")
_HEX = frozenset("0123456789abcdefABCDEF")
# Bytes below 0x80 that Go's url.Parse accepts unescaped in a host.
_HOST_PUNCTUATION = frozenset("-_.~!$&'()*+,;=:[]<>\"")


class BadPeerURL(ClientError, ValueError):
    """A peer URL the client refuses to send; the message is Go's."""


def _go_quote(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\\\"":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


class _ParseError(Exception):
    pass


def _check_escapes(text: str, host: bool) -> None:
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "%":
            escape = text[i:i + 3]
            if len(escape) < 3 or escape[1] not in _HEX or escape[2] not in _HEX:
                raise _ParseError(f"invalid URL escape {_go_quote(escape)}")
            # In a host only a zone's "%25" or a UTF-8 byte may be escaped.
            if host and int(escape[1], 16) < 8 and escape != "%25":
                raise _ParseError(f"invalid URL escape {_go_quote(escape)}")
            i += 3
            continue
        if host and ord(ch) < 0x80 and not (ch.isalnum() or ch in _HOST_PUNCTUATION):
            raise _ParseError(f"invalid character {_go_quote(ch)} in host name")
        i += 1


def _valid_optional_port(port: str) -> bool:
    return port == "" or (port[0] == ":" and all(c.isdigit() and c.isascii()
                                                 for c in port[1:]))


def _parse_host(host: str) -> str:
    if host.startswith("["):
        end = host.rfind("]")
        if end < 0:
            raise _ParseError("missing ']' in host")
        port = host[end + 1:]
    else:
        colon = host.rfind(":")
        port = host[colon:] if colon >= 0 else ""
    if not _valid_optional_port(port):
        raise _ParseError(f"invalid port {_go_quote(port)} after host")
    _check_escapes(host, host=True)
    return host


def _scheme_and_rest(url: str) -> tuple[str, str]:
    for i, ch in enumerate(url):
        if ch.isascii() and ch.isalpha():
            continue
        if ch.isascii() and (ch.isdigit() or ch in "+-."):
            if i == 0:
                return "", url
            continue
        if ch == ":":
            if i == 0:
                raise _ParseError("missing protocol scheme")
            return url[:i].lower(), url[i + 1:]
        return "", url
    return "", url


def _parse(url: str) -> tuple[str, str, str]:
    """(scheme, host, path) as Go's url.Parse finds them."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise _ParseError("net/url: invalid control character in URL")
    scheme, rest = _scheme_and_rest(url)
    if rest.endswith("?") and rest.count("?") == 1:
        rest = rest[:-1]
    else:
        rest = rest.split("?", 1)[0]
    if not rest.startswith("/"):
        if scheme:
            return scheme, "", ""  # opaque: "http:host:port"
        if ":" in rest.split("/", 1)[0]:
            raise _ParseError("first path segment in URL cannot contain colon")
    host = ""
    if rest.startswith("//") and (scheme or not rest.startswith("///")):
        authority, slash, path = rest[2:].partition("/")
        rest = slash + path
        host = _parse_host(authority[authority.rfind("@") + 1:])
    _check_escapes(rest, host=False)
    return scheme, host, rest


def _split_host_port(hostport: str) -> bool:
    """Whether Go's net.SplitHostPort accepts ``hostport``."""
    colon = hostport.rfind(":")
    if colon < 0:
        return False
    host_start, port_start = 0, 0
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0 or end + 1 != colon:
            return False
        host_start, port_start = 1, end + 1
    elif ":" in hostport[:colon]:
        return False
    return "[" not in hostport[host_start:] and "]" not in hostport[port_start:]


def check_peer_urls(urls: list[str]) -> None:
    """Raise BadPeerURL with Go's text for the first URL etcd's client
    would refuse."""
    if not urls:
        raise BadPeerURL("no valid URLs given")
    for raw in urls:
        url = raw.strip()
        before_fragment, has_fragment, fragment = url.partition("#")
        try:
            scheme, host, path = _parse(before_fragment)
        except _ParseError as exc:
            raise BadPeerURL(f"parse {_go_quote(before_fragment)}: {exc}") from None
        try:
            if has_fragment:
                _check_escapes(fragment, host=False)
        except _ParseError as exc:
            raise BadPeerURL(f"parse {_go_quote(url)}: {exc}") from None
        if scheme not in _SCHEMES:
            raise BadPeerURL(f"URL scheme must be http, https, unix, or unixs: {url}")
        if not _split_host_port(host):
            raise BadPeerURL(f'URL address does not have the form "host:port": {url}')
        if path:
            raise BadPeerURL(f"URL must not contain a path: {url}")
