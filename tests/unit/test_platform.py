"""Configuration fails fast and names the variable; typed errors survive the trip over RPC."""
import dataclasses

import pytest
from marshmallow import ValidationError
from nameko.exceptions import deserialize, serialize

from deploy.processes import BY_NAME, PROCESSES
from gateway.settings import GatewaySettings
from services.air.settings import AirSettings
from services.billing.settings import BillingSettings
from services.identity.schemas import RegisterOperator
from services.identity.settings import IdentitySettings
from services.programming.settings import ProgrammingSettings
from services.shared import config
from services.shared.errors import InvalidInput, TooManyRequests, from_validation_error
from services.shop.settings import ShopSettings

# the object store's keys have no default even in development: `make run` generates them (deploy/launcher.py)
DEVELOPMENT = {"AOS_PROFILE": "development", "AOS_BLOB_ACCESS_KEY": "aos-1a2b", "AOS_BLOB_SECRET_KEY": "s" * 32,
               "AOS_BLOB_LINK_ACCESS_KEY": "aos-links-1a2b", "AOS_BLOB_LINK_SECRET_KEY": "l" * 32}
EVERY_SETTINGS = (IdentitySettings, BillingSettings, ShopSettings, AirSettings, ProgrammingSettings, GatewaySettings)


def test_defaults_serve_a_single_machine():
    conf = config.load(DEVELOPMENT, processes=PROCESSES)
    assert conf["AMQP_URI"] == "amqp://guest:guest@127.0.0.1:5672/"
    identity = conf["DATABASE_URLS"]["identity"]
    assert identity.startswith("sqlite:///") and identity.endswith("identity.sqlite")
    assert conf["WEB_SERVER_ADDRESS"] == "127.0.0.1:8000"
    assert "gateway" not in conf["DATABASE_URLS"] and conf["METRICS_ADDRESSES"]["gateway"] == "127.0.0.1:9107"


def test_one_postgresql_server_gives_each_service_its_database():
    conf = config.load(DEVELOPMENT | {"AOS_DATABASE_URL": "postgresql://aos:secret@db:5432/postgres"},
                       processes=PROCESSES)
    assert conf["DATABASE_URLS"]["identity"] == "postgresql://aos:secret@db:5432/aos_identity"
    own = config.load(DEVELOPMENT | {"AOS_IDENTITY_DATABASE_URL": "postgresql://x@y/identity_db"},
                      processes=PROCESSES)
    assert own["DATABASE_URLS"]["identity"] == "postgresql://x@y/identity_db"


def test_a_process_is_configured_for_itself_and_a_replica_listens_a_block_further():
    identity = BY_NAME["identity"]
    conf = config.load(DEVELOPMENT | {"AOS_REPLICA": "1"}, process="identity", processes=(identity,))
    assert set(conf["DATABASE_URLS"]) == {"identity"}
    assert conf["METRICS_ADDRESSES"] == {"identity": f"127.0.0.1:{9100 + config.REPLICA_PORTS + 1}"}


@pytest.mark.parametrize("environ, named", [
    ({"AOS_AMQP_URI": "http://rabbit"}, "AOS_AMQP_URI"),
    ({"AOS_DATABASE_URL": "mysql://x"}, "AOS_DATABASE_URL"),
    ({"AOS_GATEWAY_ADDRESS": "8000"}, "AOS_GATEWAY_ADDRESS"),
    ({"AOS_PROFILE": "staging"}, "AOS_PROFILE"),
])
def test_a_wrong_setting_stops_start_up_naming_it(environ, named):
    with pytest.raises(config.ConfigurationError, match=named):
        config.load(DEVELOPMENT | environ)


@pytest.mark.parametrize("settings, environ, named", [
    (IdentitySettings, {"AOS_ACCESS_TOKEN_TTL": "5"}, "AOS_ACCESS_TOKEN_TTL"),
    (GatewaySettings, {"AOS_MAX_BODY_BYTES": "lots"}, "AOS_MAX_BODY_BYTES"),
    (BillingSettings, {"AOS_CARD_PROVIDER": "cash"}, "AOS_CARD_PROVIDER"),
    (ShopSettings, {"AOS_SHOP_PAYMENT_TIMEOUT_SECONDS": "0"}, "AOS_SHOP_PAYMENT_TIMEOUT_SECONDS"),
    (AirSettings, {"AOS_SEARCH_ENGINE": "elasticsearch"}, "AOS_ELASTICSEARCH_URL"),
    (ProgrammingSettings, {"AOS_ECU_SECRET": "short"}, "AOS_ECU_SECRET"),
])
def test_a_services_wrong_setting_stops_it_naming_the_variable(settings, environ, named):
    with pytest.raises(config.ConfigurationError, match=named):
        config.build(settings, DEVELOPMENT | environ)


def test_each_service_starts_on_its_defaults_in_development():
    for settings in EVERY_SETTINGS:
        built = config.build(settings, DEVELOPMENT)
        with pytest.raises(dataclasses.FrozenInstanceError):  # built once, never changed while running
            setattr(built, dataclasses.fields(built)[0].name, None)


@pytest.mark.parametrize("load, named", [
    (lambda env: config.load(env), "AOS_BLOB_ACCESS_KEY"),
    (lambda env: config.build(ProgrammingSettings, env), "AOS_ECU_SECRET"),
])
def test_production_refuses_to_start_without_its_secrets(load, named):
    with pytest.raises(config.ConfigurationError, match=f"{named}: required"):
        load({})
    with pytest.raises(config.ConfigurationError, match=named):
        load({"AOS_PROFILE": "production"})


@pytest.mark.parametrize("missing", ["AOS_BLOB_ACCESS_KEY", "AOS_BLOB_SECRET_KEY", "AOS_BLOB_LINK_ACCESS_KEY",
                                     "AOS_BLOB_LINK_SECRET_KEY"])
def test_no_object_store_key_is_written_in_code_not_even_for_development(missing):
    with pytest.raises(config.ConfigurationError, match=f"{missing}: required"):
        config.load({k: v for k, v in DEVELOPMENT.items() if k != missing})
    with pytest.raises(config.ConfigurationError, match="16 characters or more"):
        config.load(DEVELOPMENT | {"AOS_BLOB_SECRET_KEY": "aos-dev-secret"})


def test_make_run_generates_the_object_store_keys_once_readable_by_its_user_only(tmp_path):
    from deploy.launcher import ensure_object_store_keys
    first, second = {"AOS_DATA_DIR": str(tmp_path)}, {"AOS_DATA_DIR": str(tmp_path)}
    ensure_object_store_keys(first)
    ensure_object_store_keys(second)
    assert first == second and len(first["AOS_BLOB_SECRET_KEY"]) >= 32
    assert first["AOS_BLOB_ACCESS_KEY"] != first["AOS_BLOB_LINK_ACCESS_KEY"]
    assert (tmp_path / "keys" / "object-store.json").stat().st_mode & 0o077 == 0
    configured = {"AOS_DATA_DIR": str(tmp_path / "other"), "AOS_BLOB_ACCESS_KEY": "mine"}
    ensure_object_store_keys(configured)  # configured keys win, and nothing is generated
    assert configured == {"AOS_DATA_DIR": str(tmp_path / "other"), "AOS_BLOB_ACCESS_KEY": "mine"}


def test_typed_errors_arrive_typed_on_the_other_side_of_rpc():
    sent = TooManyRequests("LOGIN_THROTTLED", "Try again in 30 seconds.", {"retry_after_seconds": 30})
    received = deserialize(serialize(sent))
    assert type(received) is TooManyRequests
    assert (received.code, received.message, received.details) == (sent.code, sent.message, sent.details)
    assert received.status == 429


def test_validation_errors_name_every_field_and_nested_path():
    with pytest.raises(ValidationError) as raised:
        RegisterOperator().load({"operator": {"country": "XX", "address": {}}, "owner": {"email": "x"}, "extra": 1})
    error = from_validation_error(raised.value)
    assert isinstance(error, InvalidInput) and error.code == "VALIDATION_FAILED"
    for path in ("operator.country", "operator.address.city", "owner.email", "owner.password", "extra"):
        assert path in error.message
    assert error.details["fields"]["extra"] == ["Unknown field."]
