"""Configuration fails fast and names the variable; typed errors survive the trip over RPC."""
import pytest
from marshmallow import ValidationError
from nameko.exceptions import deserialize, serialize

from services.identity.schemas import RegisterOperator
from services.shared import config
from services.shared.errors import InvalidInput, TooManyRequests, from_validation_error


def test_defaults_serve_a_single_machine():
    conf = config.load({})
    assert conf["AMQP_URI"] == "amqp://guest:guest@127.0.0.1:5672/"
    assert conf["DATABASE_URLS"]["identity"].startswith("sqlite:///") and conf["DATABASE_URLS"]["identity"].endswith("identity.sqlite")
    assert conf["WEB_SERVER_ADDRESS"] == "127.0.0.1:8000"


def test_one_postgresql_server_gives_each_service_its_database():
    conf = config.load({"AOS_DATABASE_URL": "postgresql://aos:secret@db:5432/postgres"})
    assert conf["DATABASE_URLS"]["identity"] == "postgresql://aos:secret@db:5432/aos_identity"
    own = config.load({"AOS_IDENTITY_DATABASE_URL": "postgresql://x@y/identity_db"})
    assert own["DATABASE_URLS"]["identity"] == "postgresql://x@y/identity_db"


@pytest.mark.parametrize("environ, named", [
    ({"AOS_AMQP_URI": "http://rabbit"}, "AOS_AMQP_URI"),
    ({"AOS_ACCESS_TOKEN_TTL": "5"}, "AOS_ACCESS_TOKEN_TTL"),
    ({"AOS_MAX_BODY_BYTES": "lots"}, "AOS_MAX_BODY_BYTES"),
    ({"AOS_DATABASE_URL": "mysql://x"}, "AOS_DATABASE_URL"),
    ({"AOS_GATEWAY_ADDRESS": "8000"}, "AOS_GATEWAY_ADDRESS"),
])
def test_a_wrong_setting_stops_start_up_naming_it(environ, named):
    with pytest.raises(config.ConfigurationError, match=named):
        config.load(environ)


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
