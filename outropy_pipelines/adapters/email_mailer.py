"""Email delivery over SMTP: a multipart (plain text + HTML) message per briefing.

Configured by an `SmtpConfig` (from SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_FROM,
SMTP_STARTTLS, SMTP_SSL through the Dagster resource); the password is used to log in and is never
stored or logged. One connection serves a whole batch and is reopened after an error.

Every message carries a deterministic Message-ID (day, user, content hash), so a resend of the
same content is recognisable as the same message, and List-Unsubscribe (+ List-Unsubscribe-Post
for an https one-click URL).

Failures are told apart by how far the SMTP conversation got: anything before the message content
(connect, login, MAIL, RCPT, the DATA command itself) is a normal error, retried later; once the
content has gone out (the server answered DATA with 354), a lost reply (dropped connection,
timeout) leaves the message in doubt: it may have been accepted, so it is not resent
automatically (`DeliveryError(in_doubt=True)`). An explicit 4xx/5xx reply to the content is a
refusal, not a doubt.
"""

from __future__ import annotations

import datetime as dt
import re
import smtplib
import ssl
import urllib.parse
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_eval_context, select_autoescape
from markupsafe import Markup

from outropy_pipelines.domain.briefing_rendering import title_of
from outropy_pipelines.domain.delivery_plan import (
    DeliveryError,
    Found,
    Outgoing,
    SendResult,
    is_email_address,
)
from outropy_pipelines.domain.models import Briefing

DEFAULT_FROM = "Outropy briefings <briefings@localhost>"
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL | re.IGNORECASE)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@pass_eval_context
def _escaped(eval_ctx, value):
    """Autoescaping (in the .html.j2 templates) in `_esc`'s form, the form the emails have always had
    (markupsafe's own also turns ' into `&#39;` and " into `&#34;`). Markup passes as is."""
    if not eval_ctx.autoescape or hasattr(value, "__html__"):
        return value
    return Markup(_esc(str(value)))


# The email templates (adapters/templates): the HTML part autoescaped, the plain-text part not.
_TEMPLATES = Environment(
    loader=PackageLoader("outropy_pipelines.adapters", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    finalize=_escaped,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    auto_reload=False,
)
_HTML = _TEMPLATES.get_template("briefing_email.html.j2")
_TEXT = _TEMPLATES.get_template("briefing_email.txt.j2")


def sender_problem(from_addr: str | None) -> str | None:
    """Why no email can be sent from `from_addr` (SMTP_FROM; unset: DEFAULT_FROM), or None."""
    _, sender = parseaddr(from_addr or DEFAULT_FROM)
    return None if "@" in sender else f"SMTP_FROM is not an email address: {from_addr!r}"


class EmailComposer:
    """Builds the email of a briefing (no network): headers, plain-text and HTML parts from templates."""

    def __init__(
        self, from_addr: str | None, unsubscribe_url: str | None = None, unsubscribe_mailto: str | None = None
    ) -> None:
        self.from_addr = from_addr or DEFAULT_FROM
        problem = sender_problem(self.from_addr)
        if problem:
            raise ValueError(problem)
        _, sender = parseaddr(self.from_addr)
        self.sender = sender
        self.domain = sender.rsplit("@", 1)[1]
        self.unsubscribe_url = unsubscribe_url
        self.unsubscribe_mailto = unsubscribe_mailto or sender

    def _unsubscribe(self, item: Outgoing) -> tuple[str | None, str]:
        url = None
        if self.unsubscribe_url:
            url = self.unsubscribe_url.replace("{user_id}", urllib.parse.quote(item.user_id)).replace(
                "{day}", item.day
            )
            if not url.lower().startswith(("https://", "http://")):
                url = None
        subject = urllib.parse.quote(f"unsubscribe {item.user_id}")
        mailto = f"mailto:{self.unsubscribe_mailto}?subject={subject}"
        return url, mailto

    def compose(self, item: Outgoing) -> EmailMessage:
        if not is_email_address(item.email_address):
            raise DeliveryError(
                f"no email address for {item.user_id}: set email_address in the subscriptions file",
                permanent=True,
            )
        title = title_of(Briefing(day=item.day, user_id=item.user_id, user_name=item.user_name))
        url, mailto = self._unsubscribe(item)
        msg = EmailMessage()
        msg["Subject"] = title
        msg["From"] = self.from_addr
        msg["To"] = formataddr((item.user_name, item.email_address))
        msg["Message-ID"] = f"<briefing.{item.day}.{item.user_id}.{item.content_hash or 'x'}@{self.domain}>"
        msg["List-Unsubscribe"] = ", ".join(f"<{u}>" for u in (url, mailto) if u)
        if url and url.lower().startswith("https://"):
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Outropy-Briefing"] = f"{item.day} {item.user_id}"

        unsubscribe = {
            "feedback_links": item.feedback_links,
            "unsubscribe_url": url,
            "unsubscribe_mailto": mailto,
            "unsubscribe_address": self.unsubscribe_mailto,
            "user_id": item.user_id,
        }
        plain = (item.plain_text or item.markdown).rstrip("\n")
        msg.set_content(_TEXT.render(briefing=plain, **unsubscribe), charset="utf-8")
        body = _BODY.search(item.html or "")
        page_body = Markup(body.group(1).strip()) if body else None  # the stored page, escaped already
        html = _HTML.render(title=title, page_body=page_body, markdown=item.markdown, **unsubscribe)
        msg.add_alternative(html, subtype="html", charset="utf-8")
        return msg


@dataclass(frozen=True)
class SmtpConfig:
    """The SMTP server and the sender; `password` is only ever used to log in."""

    host: str
    port: int = 587
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str | None = None
    starttls: bool = True
    ssl: bool = False
    timeout_seconds: float = 10.0
    unsubscribe_url: str | None = None  # may contain {user_id}
    unsubscribe_mailto: str | None = None


class _ContentTracking:
    """Mixed into smtplib's clients: `content_sent` tells whether the current message's content
    went out (the server answered DATA with 354, the next bytes are the message)."""

    content_sent = False
    _in_data = False

    def mail(self, *args, **kwargs):  # MAIL FROM: a new message begins
        self.content_sent = False
        return super().mail(*args, **kwargs)  # type: ignore[misc]

    def data(self, msg):
        self.content_sent, self._in_data = False, True
        try:
            return super().data(msg)  # type: ignore[misc]
        finally:
            self._in_data = False

    def getreply(self):
        reply = super().getreply()  # type: ignore[misc]
        if self._in_data and reply[0] == 354:
            self.content_sent = True
        return reply


class _SMTP(_ContentTracking, smtplib.SMTP):
    pass


class _SMTPSSL(_ContentTracking, smtplib.SMTP_SSL):
    pass


class SmtpMailer:
    """The email transport: `send` one briefing; SMTP cannot tell what was sent, so no reconciliation."""

    channel = "email"

    def __init__(self, config: SmtpConfig) -> None:
        if not config.host:
            raise ValueError("SMTP_HOST is not set")
        self.config = config
        self.composer = EmailComposer(config.sender, config.unsubscribe_url, config.unsubscribe_mailto)
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        context = ssl.create_default_context()
        if c.ssl:
            smtp: smtplib.SMTP = _SMTPSSL(c.host, c.port, timeout=c.timeout_seconds, context=context)
        else:
            smtp = _SMTP(c.host, c.port, timeout=c.timeout_seconds)
        try:
            smtp.ehlo()
            if c.starttls and not c.ssl:
                smtp.starttls(context=context)
                smtp.ehlo()
            if c.user and c.password:
                smtp.login(c.user, c.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, item: Outgoing) -> SendResult:
        msg = self.composer.compose(item)
        msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            refused = self._smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"recipient refused: {_smtp_reply(exc.recipients)}", permanent=all(c >= 500 for c in codes)
            ) from exc
        except smtplib.SMTPResponseException as exc:  # sender refused, data error, auth error, ...
            self.close()
            # a 5xx on the message itself is final; connect/auth/sender problems are configuration: retried
            permanent = exc.smtp_code >= 500 and isinstance(exc, smtplib.SMTPDataError)
            raise DeliveryError(
                f"SMTP error {exc.smtp_code}: {_decode(exc.smtp_error)}", permanent=permanent
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timeout
            in_doubt = bool(getattr(self._smtp, "content_sent", False))
            self.close()
            if in_doubt:
                raise DeliveryError(
                    f"SMTP server {self.config.host}:{self.config.port} did not acknowledge the message "
                    f"after receiving it: {type(exc).__name__}: {exc}",
                    address=item.email_address,
                    in_doubt=True,
                ) from exc
            raise DeliveryError(
                f"SMTP server {self.config.host}:{self.config.port} unavailable: {type(exc).__name__}: {exc}"
            ) from exc
        if refused:
            raise DeliveryError(f"recipient refused: {_smtp_reply(refused)}", permanent=True)
        return SendResult(address=item.email_address or "", ids=[msg["Message-ID"]])

    def find_sent(self, item: Outgoing, since: dt.datetime) -> Found | None:
        return None  # SMTP has no way to ask what was delivered

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


def _decode(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _smtp_reply(recipients: dict) -> str:
    return "; ".join(f"{addr}: {code} {_decode(text)}" for addr, (code, text) in recipients.items())
