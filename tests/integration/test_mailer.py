"""The Mailer port's contract, on its SMTP adapter against a real SMTP server (the catcher `make run` uses): what
is sent arrives whole, in any European script, as plain text and HTML; a relay that is down fails the send and
never the change that asked for it."""
import time

import pytest

from deploy.ports import free_port
from services.shared.config import build
from services.shared.mail import MailSettings, SmtpMailer, compose
from tests.helpers import Mailbox


class Work:
    """A unit of work that has committed: what was to happen after it, happens now."""

    def after_commit(self, effect):
        effect()


def mailer(port):
    return SmtpMailer(build(MailSettings, {"AOS_SMTP_PORT": str(port), "AOS_MAIL_FROM": "AOS <no-reply@aos.test>"}))


@pytest.mark.parametrize("to", ["lukasz@warsztat.pl", "łukasz@warsztat.pl"])  # the second needs SMTPUTF8
def test_a_mail_arrives_whole_as_text_and_html(mail_catcher, to):
    folder, port = mail_catcher
    started = time.time_ns()
    sent = compose(to, "Faktura AOS-2026-000001: 10,71 EUR — Łódź", [
        "Dzień dobry,", "Škoda Octavia: wymiana świec <zapłonu> & cewki."], ("Otwórz", "http://portal.test/#/billing"))
    mailer(port).send(sent)
    received = Mailbox(folder).latest(to, since_ns=started)
    assert received["Subject"] == sent.subject and received["From"] == "AOS <no-reply@aos.test>"
    assert Mailbox.text(received).replace("\r\n", "\n") == sent.text  # SMTP ends lines with CRLF
    html = received.get_body(("html",)).get_content()
    assert "&lt;zapłonu&gt; &amp; cewki" in html and 'href="http://portal.test/#/billing"' in html


def test_a_relay_that_is_down_fails_the_send_but_not_the_change():
    down = mailer(free_port())
    with pytest.raises(OSError):
        down.send(compose("anna@werkstatt.de", "x", ["y"]))
    down.send_later(Work(), compose("anna@werkstatt.de", "x", ["y"]))  # logged, not raised


def test_mails_go_on_arriving_when_the_relay_restarts_between_them(tmp_path):
    """The adapter keeps its connection to the relay from one mail to the next; a relay that restarted meanwhile
    (and so closed it) still gets the next mail, once."""
    from deploy import mailcatcher
    port = free_port()
    sender = mailer(port)
    relay = mailcatcher.start(tmp_path, port)
    try:
        started = time.time_ns()
        for n in (1, 2):
            sender.send(compose("anna@werkstatt.de", f"mail {n}", ["before the restart"]))
        relay.terminate()
        relay.wait(timeout=20)
        relay = mailcatcher.start(tmp_path, port)
        sender.send(compose("anna@werkstatt.de", "mail 3", ["after the restart"]))
        subjects = [m["Subject"] for m in Mailbox(tmp_path).mails("anna@werkstatt.de", since_ns=started)]
        assert subjects == ["mail 1", "mail 2", "mail 3"]
    finally:
        sender.close()
        relay.terminate()
        relay.wait(timeout=20)
