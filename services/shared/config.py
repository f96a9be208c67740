"""Every setting AOS reads, in one place: read from the environment, checked, and turned into the
nameko config dict that services and providers read. A wrong or missing setting stops start-up with a
message naming the variable."""
import os
from pathlib import Path

from sqlalchemy.engine import make_url
from marshmallow import Schema, ValidationError, fields, validate

SERVICES = ("identity", "billing", "vehicle_data", "shop", "air", "programming")  # services with a database of their own; grows as services land
PROCESSES = SERVICES + ("gateway",)  # what `make run` starts, one process each

ROOT = Path(__file__).resolve().parents[2]


class ConfigurationError(SystemExit):
    pass


def _address(text):
    host, _, port = text.rpartition(":")
    return bool(host) and port.isdigit() and 0 < int(port) < 65536


class EnvironmentSchema(Schema):
    """Each field is an environment variable; the README's configuration table lists them."""
    AOS_DATA_DIR = fields.String(load_default=str(ROOT / "var"))
    AOS_AMQP_URI = fields.String(
        load_default="amqp://guest:guest@127.0.0.1:5672/",
        validate=validate.Regexp(r"^amqps?://", error="must be an amqp:// or amqps:// URI"))
    AOS_DATABASE_URL = fields.String(load_default=None, validate=validate.Regexp(
        r"^(sqlite|postgresql)(\+\w+)?://", error="must be a sqlite:// or postgresql:// URL"))
    AOS_GATEWAY_ADDRESS = fields.String(
        load_default="127.0.0.1:8000", validate=validate.Predicate("__len__", error="host:port"))
    AOS_METRICS_HOST = fields.String(load_default="127.0.0.1")
    AOS_METRICS_BASE_PORT = fields.Integer(load_default=9100, validate=validate.Range(1024, 65000))
    AOS_JWT_PRIVATE_KEY_FILE = fields.String(load_default=None)
    AOS_JWT_PUBLIC_KEY_FILE = fields.String(load_default=None)
    AOS_ACCESS_TOKEN_TTL = fields.Integer(load_default=600, validate=validate.Range(60, 3600))
    AOS_REFRESH_TOKEN_TTL = fields.Integer(load_default=30 * 86400, validate=validate.Range(3600, 90 * 86400))
    AOS_LOGIN_WINDOW = fields.Integer(load_default=900, validate=validate.Range(10, 86400))
    AOS_LOGIN_MAX_ACCOUNT_FAILURES = fields.Integer(load_default=5, validate=validate.Range(1, 100))
    AOS_LOGIN_MAX_ADDRESS_FAILURES = fields.Integer(load_default=20, validate=validate.Range(1, 10000))
    AOS_MAX_BODY_BYTES = fields.Integer(load_default=64 * 1024, validate=validate.Range(1024, 16 * 1024 * 1024))
    AOS_MAX_WORKERS = fields.Integer(load_default=10, validate=validate.Range(1, 1000))
    AOS_GATEWAY_MAX_WORKERS = fields.Integer(load_default=64, validate=validate.Range(1, 1000))
    AOS_RPC_TIMEOUT = fields.Float(load_default=10.0, validate=validate.Range(0.1, 300))
    AOS_OUTBOX_POLL_SECONDS = fields.Float(load_default=1.0, validate=validate.Range(0.01, 60))
    AOS_SHOP_PAYMENT_TIMEOUT_SECONDS = fields.Float(load_default=120.0, validate=validate.Range(1, 86400))
    AOS_INVOICE_LIMIT_CENTS = fields.Integer(load_default=500000, validate=validate.Range(0, 100_000_000))
    AOS_BLOB_ENDPOINT = fields.String(load_default="127.0.0.1:8333")
    AOS_BLOB_ACCESS_KEY = fields.String(load_default="aos-dev")
    AOS_BLOB_SECRET_KEY = fields.String(load_default="aos-dev-secret-change-me")
    AOS_BLOB_REGION = fields.String(load_default="us-east-1")
    AOS_BLOB_SECURE = fields.Boolean(load_default=False)
    AOS_BLOB_BUCKET = fields.String(load_default="aos", validate=validate.Regexp(
        r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", error="an S3 bucket name: 3 to 63 lower-case letters, digits, dots, dashes"))
    AOS_CARD_PROVIDER = fields.String(load_default="sandbox")
    AOS_SEARCH_ENGINE = fields.String(load_default="tantivy", validate=validate.OneOf(("tantivy", "elasticsearch")))
    AOS_SEARCH_INDEX_DIR = fields.String(load_default=None)
    AOS_ELASTICSEARCH_URL = fields.String(load_default=None, validate=validate.Regexp(
        r"^https?://", error="must be an http:// or https:// URL"))
    AOS_ELASTICSEARCH_INDEX = fields.String(load_default="aos-air-documents", validate=validate.Regexp(
        r"^[a-z0-9][a-z0-9._-]{0,200}$", error="an index name: lower-case letters, digits, . _ -"))
    AOS_ELASTICSEARCH_PLAIN_JSON = fields.Boolean(load_default=False)
    AOS_AIR_SYNC_SECONDS = fields.Float(load_default=2.0, validate=validate.Range(0.05, 3600))
    AOS_HEARTBEAT_TIMEOUT_SECONDS = fields.Float(load_default=10.0, validate=validate.Range(0.2, 600))
    AOS_RESUME_LIMIT_SECONDS = fields.Float(load_default=300.0, validate=validate.Range(1, 86400))
    AOS_RESERVE_SLICE_SECONDS = fields.Integer(load_default=60, validate=validate.Range(1, 3600))
    AOS_MANUFACTURER_KEY_FILE = fields.String(load_default=None)
    AOS_ECU_SECRET = fields.String(load_default="aos-demo-ecu-secret-change-me", validate=validate.Length(min=8))
    AOS_SELLER_NAME = fields.String(load_default="AOS Demo Manufacturer GmbH")
    AOS_SELLER_COUNTRY = fields.String(load_default="DE", validate=validate.Length(equal=2))
    AOS_SELLER_VAT_ID = fields.String(load_default="DE136695976")
    AOS_SELLER_ADDRESS = fields.String(load_default="Petuelring 1, 80809 München, Germany")


def load(environ=None):
    """The nameko config dict for every AOS process, from the environment."""
    environ = os.environ if environ is None else environ
    known = {k: v for k, v in environ.items() if k in EnvironmentSchema._declared_fields}
    try:
        env = EnvironmentSchema().load(known)
    except ValidationError as exc:
        problems = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in sorted(exc.messages.items()))
        raise ConfigurationError(f"AOS configuration is wrong: {problems}")
    if not _address(env["AOS_GATEWAY_ADDRESS"]):
        raise ConfigurationError("AOS configuration is wrong: AOS_GATEWAY_ADDRESS: must be host:port")
    if env["AOS_SEARCH_ENGINE"] == "elasticsearch" and not env["AOS_ELASTICSEARCH_URL"]:
        raise ConfigurationError("AOS configuration is wrong: AOS_ELASTICSEARCH_URL: required when "
                                 "AOS_SEARCH_ENGINE=elasticsearch")
    data_dir = Path(env["AOS_DATA_DIR"])
    keys = data_dir / "keys"
    urls = {}
    for i, service in enumerate(SERVICES):
        url = environ.get(f"AOS_{service.upper()}_DATABASE_URL") or _per_service(env["AOS_DATABASE_URL"], service)
        urls[service] = url or f"sqlite:///{data_dir / (service + '.sqlite')}"
    return {
        "AMQP_URI": env["AOS_AMQP_URI"],
        "WEB_SERVER_ADDRESS": env["AOS_GATEWAY_ADDRESS"],
        "max_workers": env["AOS_MAX_WORKERS"],
        "DATA_DIR": str(data_dir),
        "DATABASE_URLS": urls,
        "METRICS_ADDRESSES": {
            s: f"{env['AOS_METRICS_HOST']}:{env['AOS_METRICS_BASE_PORT'] + 1 + i}" for i, s in enumerate(SERVICES)},
        "JWT_PRIVATE_KEY_FILE": env["AOS_JWT_PRIVATE_KEY_FILE"] or str(keys / "token-signing.pem"),
        "JWT_PUBLIC_KEY_FILE": env["AOS_JWT_PUBLIC_KEY_FILE"] or str(keys / "token-signing.pub.pem"),
        "ACCESS_TOKEN_TTL": env["AOS_ACCESS_TOKEN_TTL"],
        "REFRESH_TOKEN_TTL": env["AOS_REFRESH_TOKEN_TTL"],
        "LOGIN_WINDOW": env["AOS_LOGIN_WINDOW"],
        "LOGIN_MAX_ACCOUNT_FAILURES": env["AOS_LOGIN_MAX_ACCOUNT_FAILURES"],
        "LOGIN_MAX_ADDRESS_FAILURES": env["AOS_LOGIN_MAX_ADDRESS_FAILURES"],
        "MAX_BODY_BYTES": env["AOS_MAX_BODY_BYTES"],
        "GATEWAY_MAX_WORKERS": env["AOS_GATEWAY_MAX_WORKERS"],
        "RPC_TIMEOUT": env["AOS_RPC_TIMEOUT"],
        "OUTBOX_POLL_SECONDS": env["AOS_OUTBOX_POLL_SECONDS"],
        "SHOP_PAYMENT_TIMEOUT": env["AOS_SHOP_PAYMENT_TIMEOUT_SECONDS"],
        "INVOICE_LIMIT_CENTS": env["AOS_INVOICE_LIMIT_CENTS"],
        "CARD_PROVIDER": env["AOS_CARD_PROVIDER"],
        "AIR_SEARCH": {"engine": env["AOS_SEARCH_ENGINE"],
                       "path": env["AOS_SEARCH_INDEX_DIR"] or str(data_dir / "air-index"),
                       "url": env["AOS_ELASTICSEARCH_URL"], "index": env["AOS_ELASTICSEARCH_INDEX"],
                       "plain_json": env["AOS_ELASTICSEARCH_PLAIN_JSON"]},
        "AIR_SYNC_SECONDS": env["AOS_AIR_SYNC_SECONDS"],
        "PROGRAMMING": {"heartbeat_timeout": env["AOS_HEARTBEAT_TIMEOUT_SECONDS"],
                        "resume_limit": env["AOS_RESUME_LIMIT_SECONDS"],
                        "reserve_slice": env["AOS_RESERVE_SLICE_SECONDS"],
                        "manufacturer_key_file": env["AOS_MANUFACTURER_KEY_FILE"]
                        or str(keys / "manufacturer-software.pub.pem"),
                        "ecu_secret": env["AOS_ECU_SECRET"]},
        "BLOB_STORE": {"endpoint": env["AOS_BLOB_ENDPOINT"], "access_key": env["AOS_BLOB_ACCESS_KEY"],
                       "secret_key": env["AOS_BLOB_SECRET_KEY"], "region": env["AOS_BLOB_REGION"],
                       "secure": env["AOS_BLOB_SECURE"], "bucket": env["AOS_BLOB_BUCKET"]},
        "SELLER": {"name": env["AOS_SELLER_NAME"], "country": env["AOS_SELLER_COUNTRY"],
                   "vat_id": env["AOS_SELLER_VAT_ID"], "address": env["AOS_SELLER_ADDRESS"]},
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
    """A required setting from a nameko config dict, or a clear stop."""
    try:
        return config[key]
    except KeyError:
        raise ConfigurationError(f"AOS configuration is missing {key}; build the config with services.shared.config.load()")
