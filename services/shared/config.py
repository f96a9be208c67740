"""How AOS reads its configuration, in one place.

`load()` reads the environment once per process into the nameko config dict: the infrastructure every service
shares (broker, databases, metrics addresses, object store) and, under ENVIRONMENT, every AOS_ variable as it
was given. Each service declares its own settings as a frozen dataclass in its settings.py, fields made with
`variable()`; `Settings(cls)` builds it once when the service starts. A wrong or missing setting stops start-up
with a message naming the variable and its rule.

Secrets have no default: only the development profile (AOS_PROFILE=development, which `make run` and the tests
select) fills them with demo values, so production refuses to start without each one.
"""
import dataclasses
import os
import re
from collections import namedtuple
from pathlib import Path

from nameko.extensions import DependencyProvider
from sqlalchemy.engine import make_url

PROFILES = ("production", "development")
REPLICA_PORTS = 16  # a replica's metrics listeners sit this many ports on from the one before it (AOS_REPLICA)

ROOT = Path(__file__).resolve().parents[2]
_REQUIRED = object()


class ConfigurationError(SystemExit):
    pass


# ---- reading one variable ----------------------------------------------------------------------------------------

class Rule(namedtuple("Rule", "holds text")):
    """What a setting's value must satisfy, and how the error says it."""


def between(low, high):
    return Rule(lambda v: low <= v <= high, f"between {low} and {high}")


def one_of(*choices):
    return Rule(lambda v: v in choices, "one of " + ", ".join(map(str, choices)))


def variable(name, parse=str, default=_REQUIRED, *, rule=None, development=_REQUIRED):
    """A settings field read from the environment variable `name`. `parse` turns the text into the value (and
    raises ValueError on a bad one); `rule` is what the value must satisfy. `development` is the value the
    development profile uses when the variable is unset: for secrets, which have no `default`."""
    return dataclasses.field(metadata={"variable": name, "parse": parse, "default": default, "rule": rule,
                                       "development": development})


def flag(text):
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def read(name, parse, environ, *, default=_REQUIRED, rule=None, development=_REQUIRED):
    """One variable's value, or ConfigurationError naming it."""
    text = environ.get(name)
    if text is None or text == "":
        if development is not _REQUIRED and profile(environ) == "development":
            return development
        if default is _REQUIRED:
            secret = " (a secret: it has no default outside AOS_PROFILE=development)" if development is not _REQUIRED else ""
            raise ConfigurationError(f"AOS configuration is wrong: {name}: required{secret}")
        return default
    try:
        value = parse(text)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"AOS configuration is wrong: {name}: {exc or 'cannot be read'} ({text!r})")
    if rule is not None and not rule.holds(value):
        raise ConfigurationError(f"AOS configuration is wrong: {name}: must be {rule.text} ({text!r})")
    return value


def profile(environ):
    chosen = environ.get("AOS_PROFILE") or "production"
    if chosen not in PROFILES:
        raise ConfigurationError(f"AOS configuration is wrong: AOS_PROFILE: must be one of {', '.join(PROFILES)}")
    return chosen


def build(cls, environ):
    """A service's frozen settings from the environment."""
    values = {}
    for f in dataclasses.fields(cls):
        meta = f.metadata
        if "variable" not in meta:
            continue
        parse = meta["parse"]
        if parse is data_path:  # a file named relative to the data folder
            parse = lambda text: data_path(environ, text)  # noqa: E731
        value = read(meta["variable"], parse, environ, default=meta["default"], rule=meta["rule"],
                     development=meta["development"])
        values[f.name] = data_path(environ, value) if meta["parse"] is data_path else value
    made = cls(**values)
    check = getattr(made, "check", None)
    if check is not None:
        check()
    return made


def data_path(environ, text):
    """A file setting (use it as a variable's `parse`): absolute, or relative to AOS_DATA_DIR."""
    path = Path(text)
    return path if path.is_absolute() else data_dir(environ) / path


def data_dir(environ):
    return Path(environ.get("AOS_DATA_DIR") or ROOT / "var")


def of_container(container, cls):
    """A service's settings from the environment its container was configured with."""
    return build(cls, container.config.get("ENVIRONMENT", os.environ))


class Settings(DependencyProvider):
    """A service's settings, built once when its container is set up, the same object for every worker."""

    def __init__(self, cls):
        self.cls = cls
        self.value = None

    def setup(self):
        self.value = of_container(self.container, self.cls)

    def get_dependency(self, worker_ctx):
        return self.value


# ---- what every process shares -----------------------------------------------------------------------------------

def matching(pattern, words):
    """A variable's `parse` that takes text matching `pattern` as it is, and refuses other text in `words`."""
    compiled = re.compile(pattern)

    def parse(text):
        if not compiled.match(text):
            raise ValueError(words)
        return text
    return parse


_amqp = matching(r"^amqps?://", "must be an amqp:// or amqps:// URI")
_database = matching(r"^(sqlite|postgresql)(\+\w+)?://", "must be a sqlite:// or postgresql:// URL")
bucket_name = matching(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
                       "an S3 bucket name: 3 to 63 lower-case letters, digits, dots, dashes")


def address(text):
    host, _, port = text.rpartition(":")
    if not (host and port.isdigit() and 0 < int(port) < 65536):
        raise ValueError("must be host:port")
    return text


def database_url(environ, service):
    """A service's database: its own variable, else its database on AOS_DATABASE_URL's server, else a SQLite file
    in the data folder."""
    server = read("AOS_DATABASE_URL", _database, environ, default=None)
    url = read(f"AOS_{service.upper()}_DATABASE_URL", _database, environ, default=None)
    return url or _per_service(server, service) or f"sqlite:///{data_dir(environ) / (service + '.sqlite')}"


def load(environ=None, process=None, processes=()):
    """The nameko config dict for an AOS process, from the environment: the databases and metrics listeners of
    `processes` (their declarations, services.shared.process: the one that runs here, or all the launcher
    starts). A process may have a broker user of its own (AOS_<PROCESS>_AMQP_URI, deploy/broker.py), else every
    process shares AOS_AMQP_URI."""
    environ = dict(os.environ if environ is None else environ)
    profile(environ)
    data = data_dir(environ)
    read("AOS_DATABASE_URL", _database, environ, default=None)  # a wrong server stops every process, named
    urls = {p.name: database_url(environ, p.name) for p in processes if p.database}
    metrics_host = read("AOS_METRICS_HOST", str, environ, default="127.0.0.1")
    metrics_base = read("AOS_METRICS_BASE_PORT", int, environ, default=9100, rule=between(1024, 65000))
    # a service's second, third ... replica (AOS_REPLICA 1, 2, ...) listens for metrics one block of ports on
    replica = read("AOS_REPLICA", int, environ, default=0, rule=between(0, 99))
    metrics_base += replica * REPLICA_PORTS
    return {
        "AMQP_URI": (process and read(f"AOS_{process.upper()}_AMQP_URI", _amqp, environ, default=None)
                     or read("AOS_AMQP_URI", _amqp, environ, default="amqp://guest:guest@127.0.0.1:5672/")),
        "WEB_SERVER_ADDRESS": read("AOS_GATEWAY_ADDRESS", address, environ, default="127.0.0.1:8000"),
        "max_workers": read("AOS_MAX_WORKERS", int, environ, default=10, rule=between(1, 1000)),
        "DATA_DIR": str(data),
        "DATABASE_URLS": urls,
        "OUTBOX_POLL_SECONDS": read("AOS_OUTBOX_POLL_SECONDS", float, environ, default=1.0, rule=between(0.01, 60)),
        # every durable service queue a quorum queue (services.shared.queues): for a RabbitMQ cluster
        "QUORUM_QUEUES": read("AOS_QUORUM_QUEUES", flag, environ, default=False),
        # each process's metrics on a listener of its own, never on the public port (the gateway's: base + 7)
        "METRICS_ADDRESSES": {p.name: f"{metrics_host}:{metrics_base + p.metrics_port}" for p in processes},
        "BLOB_STORE": {
            "endpoint": read("AOS_BLOB_ENDPOINT", address, environ, default="127.0.0.1:8333"),
            # no default anywhere: `make run` generates its keys on first start (deploy/launcher.py)
            "access_key": read("AOS_BLOB_ACCESS_KEY", str, environ),
            "secret_key": read("AOS_BLOB_SECRET_KEY", str, environ, rule=Rule(lambda v: len(v) >= 16,
                                                                              "16 characters or more")),
            # the credential that signs browser links: it can only read, so a leaked link key writes nothing
            "link_access_key": read("AOS_BLOB_LINK_ACCESS_KEY", str, environ),
            "link_secret_key": read("AOS_BLOB_LINK_SECRET_KEY", str, environ, rule=Rule(lambda v: len(v) >= 16,
                                                                                        "16 characters or more")),
            "region": read("AOS_BLOB_REGION", str, environ, default="us-east-1"),
            "secure": read("AOS_BLOB_SECURE", flag, environ, default=False),
            "bucket": read("AOS_BLOB_BUCKET", bucket_name, environ, default="aos")},
        "ENVIRONMENT": {k: v for k, v in environ.items() if k.startswith("AOS_")},
    }


def _per_service(url, service):
    """One PostgreSQL server, one database per service: AOS_DATABASE_URL names the server."""
    if not url:
        return None
    if url.startswith("sqlite"):
        raise ConfigurationError(
            "AOS configuration is wrong: AOS_DATABASE_URL: SQLite needs one file per service; "
            "set AOS_<SERVICE>_DATABASE_URL instead")
    return make_url(url).set(database=f"aos_{service}").render_as_string(hide_password=False)


def setting(config, key):
    """A required piece of the shared config dict, or a clear stop."""
    try:
        return config[key]
    except KeyError:
        raise ConfigurationError(f"AOS configuration is missing {key}; build the config with services.shared.config.load()")
