"""Mail through SMTP: the Mailer port, its SMTP adapter (any relay in production; `make run` and the tests give
it a catcher that keeps what it receives), and the settings that point it somewhere.

A mail is sent after the change that caused it has committed; a relay that does not answer loses that mail and
logs it (the change stands: a link can be asked for again). Connections to the relay are kept from one mail to
the next."""
import functools
import logging
import smtplib
import socket
import time
from dataclasses import dataclass

import eventlet
from email.charset import QP, Charset
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import make_msgid

from nameko.extensions import DependencyProvider

from services.shared.config import between, flag, of_container, variable

log = logging.getLogger(__name__)

UTF8 = Charset("utf-8")
UTF8.body_encoding = QP  # readable where it is ASCII, as EmailMessage wrote it


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class MailSettings:
    host: str = variable("AOS_SMTP_HOST", str, "127.0.0.1")
    port: int = variable("AOS_SMTP_PORT", int, 8025, rule=between(1, 65535))
    sender: str = variable("AOS_MAIL_FROM", str, "AOS <no-reply@aos.example>")
    username: str = variable("AOS_SMTP_USERNAME", str, None)
    password: str = variable("AOS_SMTP_PASSWORD", str, None)
    starttls: bool = variable("AOS_SMTP_STARTTLS", flag, False)
    portal_url: str = variable("AOS_PORTAL_URL", str, "http://127.0.0.1:8000")  # links in mails lead here


# a relay closes a connection that idles (Postfix after 300 s): one kept longer is ended here first. As many
# are kept as workers sent mails at the same moment, up to a few.
KEEP_SECONDS = 30
KEEP_AT_MOST = 4


@functools.cache
def local_name():
    """What the greeting names this host; smtplib would look it up anew for every connection."""
    return socket.getfqdn()


class SmtpMailer:
    """The Mailer port over SMTP."""

    def __init__(self, settings):
        self.settings = settings
        self._kept = []  # (connection, since): open connections to the relay, the last one used first

    def message(self, mail):
        """Plain text and HTML as alternatives. Built with the classic MIME classes: EmailMessage's header
        registry parsed every header it was given, and made a third of what a purchase cost billing (its invoice's
        mail). An address that is not ASCII needs SMTPUTF8, which only EmailMessage's policies speak."""
        if mail.to.isascii():
            message, subject = MIMEMultipart("alternative"), Header(mail.subject, UTF8)
            message.attach(MIMEText(mail.text, "plain", UTF8))
            message.attach(MIMEText(mail.html, "html", UTF8))
        else:
            message, subject = EmailMessage(), mail.subject
            message.set_content(mail.text)
            message.add_alternative(mail.html, subtype="html")
        message["From"] = self.settings.sender
        message["To"] = mail.to
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain="aos")
        return message

    def send(self, mail):
        """One mail over a connection to the relay kept from an earlier mail, else a new one: the connection, the
        greeting, STARTTLS's handshake and the login are not made anew for every mail. A relay that closed a kept
        connection meanwhile gets the mail on a new one."""
        message = self.message(mail)
        kept = self._take()
        if kept is not None:
            try:
                return self._deliver(kept, message)
            except smtplib.SMTPServerDisconnected:
                pass  # closed while it waited here (a relay keeps nothing of a mail whose data did not end)
        self._deliver(self._open(), message)

    def _deliver(self, smtp, message):
        try:
            smtp.send_message(message)
        except BaseException:
            smtp.close()
            raise
        self._keep(smtp)

    def close(self):
        """The kept connections closed (the service stops)."""
        while self._kept:
            self._kept.pop()[0].close()

    def _open(self):
        s = self.settings
        smtp = smtplib.SMTP(s.host, s.port, timeout=10, local_hostname=local_name())
        try:
            if s.starttls:
                smtp.starttls()
            if s.username:
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _take(self):
        """A kept connection young enough that the relay has not closed it for idling, or None."""
        while self._kept:
            smtp, since = self._kept.pop()
            if time.monotonic() - since < KEEP_SECONDS:
                return smtp
            smtp.close()
        return None

    def _keep(self, smtp):
        if len(self._kept) < KEEP_AT_MOST:
            self._kept.append((smtp, time.monotonic()))
        else:
            smtp.close()

    def send_later(self, uow, mail):
        """Send once the unit of work has committed, beside the answer, not before it: the answer's time tells
        nothing of whether a mail went (a forgotten password for an address with no account), and a slow relay
        holds no request. A failure is logged, not raised (the change stands)."""
        uow.after_commit(lambda: eventlet.spawn_n(self._try, mail))

    def _try(self, mail):
        try:
            self.send(mail)
        except (OSError, smtplib.SMTPException):
            log.exception("a mail to %s could not be sent (%s)", mail.to, mail.subject)


class Mailer(DependencyProvider):
    """The SMTP adapter the settings name, built when the service starts."""

    def setup(self):
        self.settings = of_container(self.container, MailSettings)
        self.mailer = SmtpMailer(self.settings)

    def stop(self):
        self.mailer.close()

    kill = stop

    def get_dependency(self, worker_ctx):
        return self.mailer


def page(title, paragraphs, action=None):
    """A mail's HTML: a title, paragraphs, and a button for the one thing to do."""
    import html
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if action:
        label, url = action
        body += (f'<p><a href="{html.escape(url, quote=True)}" style="background:#2b4c7e;color:#fff;padding:10px 16px;'
                 f'text-decoration:none;border-radius:4px">{html.escape(label)}</a></p>'
                 f'<p style="color:#555">{html.escape(url)}</p>')
    return (f'<!doctype html><html><body style="font-family:sans-serif;max-width:560px">'
            f"<h1 style=\"font-size:20px\">{html.escape(title)}</h1>{body}</body></html>")


GERMAN = ("DE", "AT", "LI", "CH", "LU")  # workshops there get mails in German, everyone else in English


def language(country):
    return "de" if country in GERMAN else "en"


def from_words(words, kind, to, country, link=None, **values):
    """The mail of `kind` from a service's `words` ({kind: {lang: (subject, paragraphs, button)}}), in the
    workshop's language, its placeholders filled from `values`; `link` is its one action."""
    subject, paragraphs, button = words[kind][language(country)]
    fill = lambda text: text.format(**values)  # noqa: E731
    return compose(to, fill(subject), [fill(p) for p in paragraphs], (fill(button), link) if button else None)


def compose(to, subject, paragraphs, action=None):
    """A Mail in plain text and HTML from the same words."""
    text = "\n\n".join(paragraphs)
    if action:
        text += f"\n\n{action[0]}: {action[1]}"
    return Mail(to, subject, text + "\n", page(subject, paragraphs, action))
