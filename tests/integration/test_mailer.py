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


def test_a_mail_arrives_whole_as_text_and_html(mail_catcher):
    folder, port = mail_catcher
    started = time.time_ns()
    sent = compose("łukasz@warsztat.pl", "Faktura AOS-2026-000001: 10,71 EUR — Łódź", [
        "Dzień dobry,", "Škoda Octavia: wymiana świec <zapłonu> & cewki."], ("Otwórz", "http://portal.test/#/billing"))
    mailer(port).send(sent)
    received = Mailbox(folder).latest("łukasz@warsztat.pl", since_ns=started)
    assert received["Subject"] == sent.subject and received["From"] == "AOS <no-reply@aos.test>"
    assert Mailbox.text(received).replace("\r\n", "\n") == sent.text  # SMTP ends lines with CRLF
    html = received.get_body(("html",)).get_content()
    assert "&lt;zapłonu&gt; &amp; cewki" in html and 'href="http://portal.test/#/billing"' in html


def test_a_relay_that_is_down_fails_the_send_but_not_the_change():
    down = mailer(free_port())
    with pytest.raises(OSError):
        down.send(compose("anna@werkstatt.de", "x", ["y"]))
    down.send_later(Work(), compose("anna@werkstatt.de", "x", ["y"]))  # logged, not raised
