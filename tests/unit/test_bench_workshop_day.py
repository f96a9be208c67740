"""The capacity model's steps and error counts (bench.workshop_day): the largest number of workshops is found, not
floored at the last step asked for, and every error says what failed and why."""
import requests

from bench.workshop_day import refusal, stepped


def test_the_steps_go_on_by_the_last_increment_until_the_most_while_every_one_holds():
    assert stepped([16, 32, 48, 64]) == [16, 32, 48, 64, 80, 96, 112, 128]
    assert stepped([8, 16, 24]) == [8, 16, 24, 32, 40, 48]
    assert stepped([16, 32], most=40) == [16, 32]
    assert stepped([2]) == [2, 4]


def test_steps_that_do_not_rise_are_run_as_asked():
    assert stepped([8, 8]) == [8, 8]
    assert stepped([16, 8]) == [16, 8]


def answer(status, body):
    made = requests.Response()
    made.status_code, made._content = status, body
    return made


def test_a_refusal_is_counted_with_the_error_code_its_body_names():
    assert refusal(answer(409, b'{"error": {"code": "RUN_NOT_RUNNING", "message": "..."}}')) == "409 RUN_NOT_RUNNING"
    assert refusal(answer(503, b"<html>Service Unavailable</html>")) == "503"
    assert refusal(answer(502, b'{"detail": "bad gateway"}')) == "502"
    assert refusal(answer(500, b"[1]")) == "500"
