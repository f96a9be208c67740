"""The VatCheck contract, against the VIES stand-in over HTTP (the real adapter speaks to the EU's VIES the same
way): a registered id is valid with a consultation number, another is invalid, and VIES down or unreachable is
`unavailable`, never an exception."""
import pytest

from deploy import vies
from deploy.ports import free_port
from services.billing.vies import INVALID, UNAVAILABLE, VALID, ViesRest


@pytest.fixture
def stand_in(tmp_path):
    port = free_port()
    process = vies.start(tmp_path, port, {"valid": {"FR40303265045": "Garage Dupont", "GR094014201": "Synergeio"}})
    yield tmp_path, ViesRest(f"http://127.0.0.1:{port}", "DE136695976", timeout=5)
    process.terminate()
    process.wait(timeout=10)


def test_a_registered_vat_id_is_valid_with_a_consultation_number(stand_in):
    _, check = stand_in
    answer = check.check("FR40303265045")
    assert answer.status == VALID and answer.consultation and answer.name == "Garage Dupont"
    assert check.check("FR40303265045").consultation != answer.consultation  # each consultation its own
    assert check.check("GR094014201").status == VALID  # VIES calls Greece EL


def test_an_unknown_vat_id_is_invalid(stand_in):
    _, check = stand_in
    answer = check.check("FR00000000000")
    assert answer.status == INVALID and answer.consultation is None


def test_vies_down_or_unreachable_is_unavailable(stand_in):
    folder, check = stand_in
    vies.write_registry(folder, {"valid": {"FR40303265045": "Garage Dupont"}, "down": True})
    assert check.check("FR40303265045").status == UNAVAILABLE
    assert ViesRest(f"http://127.0.0.1:{free_port()}", "DE136695976", timeout=2).check(
        "FR40303265045").status == UNAVAILABLE
