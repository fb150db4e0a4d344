"""Member configuration: every option once, with etcd's flag name, its
default and its check.

Sources, weakest first: defaults, the YAML file of --config-file (etcd's key
names, e.g. `quota-backend-bytes: 8589934592`), ETCD_* then CAIRN_* environment
variables (ETCD_DATA_DIR, CAIRN_DATA_DIR), command-line flags.  etcd ignores
flags and environment when a config file is given; cairn layers them instead,
so a flag can override one setting of a shared file.
"""

import dataclasses
import os
import urllib.parse

import yaml

from .compactor import parse_retention


class ConfigError(Exception):
    """A bad option value; the message names the flag."""


def _int(flag, value, minimum=None):
    if isinstance(value, bool):
        raise ConfigError("invalid value %r for --%s: not an integer" % (value, flag))
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError("invalid value %r for --%s: not an integer" % (value, flag)) from None
    if minimum is not None and number < minimum:
        raise ConfigError("invalid value %r for --%s: must be at least %d" % (value, flag, minimum))
    return number


def _urls(flag, value):
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        items = [v.strip() for v in str(value).split(",") if v.strip()]
    if not items:
        raise ConfigError("invalid value %r for --%s: no URL given" % (value, flag))
    for item in items:
        parsed = urllib.parse.urlsplit(item)
        if parsed.scheme not in ("http", "https", "unix", "unixs"):
            raise ConfigError("invalid value %r for --%s: URL scheme must be http or https" % (item, flag))
        try:
            port = parsed.port
        except ValueError:
            raise ConfigError("invalid value %r for --%s: bad port" % (item, flag)) from None
        if parsed.scheme in ("http", "https") and (not parsed.hostname or port is None):
            raise ConfigError("invalid value %r for --%s: URL must have a host and a port" % (item, flag))
        if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
            raise ConfigError("invalid value %r for --%s: URL must not have a path" % (item, flag))
    return items


def _initial_cluster(flag, value):
    members = {}
    for part in [p.strip() for p in str(value).split(",") if p.strip()]:
        name, sep, url = part.partition("=")
        if not sep or not name:
            raise ConfigError("invalid value %r for --%s: want name=URL,..." % (value, flag))
        members.setdefault(name, []).extend(_urls(flag, url))
    if not members:
        raise ConfigError("invalid value %r for --%s: no member given" % (value, flag))
    return members


def _choice(flag, value, choices):
    if value not in choices:
        raise ConfigError("invalid value %r for --%s: must be one of %s" % (value, flag, ", ".join(choices)))
    return value


def _text(flag, value):
    return str(value)


@dataclasses.dataclass(frozen=True)
class Option:
    flag: str  # etcd's flag name, without dashes
    default: object
    help: str
    parse: object = _text  # parse(flag, raw) -> value, raises ConfigError

    @property
    def attr(self):
        return self.flag.replace("-", "_")


GiB = 1 << 30

OPTIONS = [
    Option("name", "default", "Human-readable name for this member."),
    Option("data-dir", "${name}.cairn", "Path to the data directory."),
    Option("listen-client-urls", "http://127.0.0.1:2379", "URLs to listen on for client traffic.", _urls),
    Option("advertise-client-urls", "http://127.0.0.1:2379", "Client URLs to advertise to the rest of the cluster.", _urls),
    Option("listen-peer-urls", "http://127.0.0.1:2380", "URLs to listen on for peer traffic.", _urls),
    Option("initial-advertise-peer-urls", "http://127.0.0.1:2380", "Peer URLs to advertise to the rest of the cluster.", _urls),
    Option("initial-cluster", "${name}=http://127.0.0.1:2380", "Initial cluster configuration for bootstrapping.", _initial_cluster),
    Option("initial-cluster-state", "new", "Initial cluster state ('new' or 'existing').",
           lambda f, v: _choice(f, v, ("new", "existing"))),
    Option("initial-cluster-token", "etcd-cluster", "Initial cluster token for the cluster during bootstrap."),
    Option("quota-backend-bytes", 2 * GiB, "Raise alarms when backend size exceeds the given quota (0 means the default, 2 GiB).",
           lambda f, v: _int(f, v, 0) or 2 * GiB),
    Option("max-txn-ops", 128, "Maximum number of operations permitted in a transaction.", lambda f, v: _int(f, v, 1)),
    Option("max-request-bytes", 1572864, "Maximum client request size in bytes the server will accept.", lambda f, v: _int(f, v, 1)),
    Option("snapshot-count", 100000, "Number of committed transactions to trigger a snapshot to disk.", lambda f, v: _int(f, v, 1)),
    Option("heartbeat-interval", 100, "Time (in milliseconds) of a heartbeat interval.", lambda f, v: _int(f, v, 1)),
    Option("election-timeout", 1000, "Time (in milliseconds) for an election to timeout.", lambda f, v: _int(f, v, 1)),
    Option("auto-compaction-mode", "periodic", "Interpret 'auto-compaction-retention' as 'periodic' or 'revision'.",
           lambda f, v: _choice(f, v, ("periodic", "revision"))),
    Option("auto-compaction-retention", "0",
           "Auto compaction retention for mvcc key value store (0 means disabled): a duration such as 1h or 30m "
           "(a bare number is hours) in periodic mode, a number of revisions in revision mode."),
]

OPTION_BY_ATTR = {o.attr: o for o in OPTIONS}


@dataclasses.dataclass
class Config:
    name: str = "default"
    data_dir: str = "default.cairn"
    listen_client_urls: list = dataclasses.field(default_factory=lambda: ["http://127.0.0.1:2379"])
    advertise_client_urls: list = dataclasses.field(default_factory=lambda: ["http://127.0.0.1:2379"])
    listen_peer_urls: list = dataclasses.field(default_factory=lambda: ["http://127.0.0.1:2380"])
    initial_advertise_peer_urls: list = dataclasses.field(default_factory=lambda: ["http://127.0.0.1:2380"])
    initial_cluster: dict = dataclasses.field(default_factory=lambda: {"default": ["http://127.0.0.1:2380"]})
    initial_cluster_state: str = "new"
    initial_cluster_token: str = "etcd-cluster"
    quota_backend_bytes: int = 2 * GiB
    max_txn_ops: int = 128
    max_request_bytes: int = 1572864
    snapshot_count: int = 100000
    heartbeat_interval: int = 100
    election_timeout: int = 1000
    auto_compaction_mode: str = "periodic"
    auto_compaction_retention: str = "0"

    @property
    def election_ticks(self) -> int:
        return max(self.election_timeout // self.heartbeat_interval, 1)


def load(flags: dict, environ=None) -> Config:
    """Builds the configuration from flags given on the command line (only
    those the user set), the environment and the config file."""
    environ = os.environ if environ is None else environ
    raw = {}
    config_file = flags.get("config_file") or environ.get("CAIRN_CONFIG_FILE") or environ.get("ETCD_CONFIG_FILE")
    if config_file:
        raw.update(_read_file(config_file))
    for prefix in ("ETCD_", "CAIRN_"):
        for option in OPTIONS:
            key = prefix + option.attr.upper()
            if key in environ:
                raw[option.attr] = environ[key]
    for attr, value in flags.items():
        if attr in OPTION_BY_ATTR and value is not None:
            raw[attr] = value

    name = str(raw.get("name", "default"))
    values = {}
    for option in OPTIONS:
        value = raw.get(option.attr, option.default)
        if isinstance(value, str):
            value = value.replace("${name}", name)
        values[option.attr] = option.parse(option.flag, value)
    config = Config(**values)
    _check(config)
    return config


def _read_file(path):
    try:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
    except OSError as exc:
        raise ConfigError("cannot read --config-file %s: %s" % (path, exc.strerror)) from None
    except yaml.YAMLError as exc:
        raise ConfigError("invalid --config-file %s: %s" % (path, exc)) from None
    if not isinstance(data, dict):
        raise ConfigError("invalid --config-file %s: expected a mapping of option names" % path)
    out = {}
    for key, value in data.items():
        attr = str(key).replace("-", "_")
        if attr not in OPTION_BY_ATTR:
            raise ConfigError("invalid --config-file %s: unknown option %r" % (path, key))
        out[attr] = value
    return out


def _check(config):
    if config.election_timeout < 5 * config.heartbeat_interval:
        raise ConfigError(
            "invalid value %d for --election-timeout: must be at least 5 times --heartbeat-interval (%d)"
            % (config.election_timeout, config.heartbeat_interval)
        )
    if config.election_timeout > 50000:
        raise ConfigError("invalid value %d for --election-timeout: too long, at most 50000 ms" % config.election_timeout)
    try:
        parse_retention(config.auto_compaction_mode, config.auto_compaction_retention)
    except ValueError:
        raise ConfigError(
            "invalid value %r for --auto-compaction-retention (mode %s)"
            % (config.auto_compaction_retention, config.auto_compaction_mode)
        ) from None
    if config.name not in config.initial_cluster and config.initial_cluster_state == "new":
        raise ConfigError(
            "invalid value for --initial-cluster: it has no member named %r (--name)" % config.name
        )
