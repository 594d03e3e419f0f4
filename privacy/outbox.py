"""Messages to people (one-time codes, notices) go through an outbox table.

A request only writes the message row in its own transaction, so the message
exists exactly when the change that caused it was committed, and no request
waits for (or reveals anything through the timing of) a mail server. A
separate delivery run hands unsent rows to a ``Sender``:

- development: nothing is delivered on its own; ``tenantgraph outbox`` prints
  the waiting messages (``ConsoleSender``) and leaves them waiting, so a second
  look shows them again (``purge`` removes old ones);
- production: ``tenantgraph outbox --send`` delivers email through SMTP
  (``SmtpSender``, from the ``TENANTGRAPH_SMTP_*`` settings), e.g. from cron.

Delivery is at least once: a row is marked sent after its sender accepted it,
so a crash in between sends it again rather than losing a code. Once sent, the
body (which may hold a code) is blanked; the row keeps who and when.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Protocol, TextIO

from sqlalchemy import String, exists, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.engine import write_transaction
from store.models import Customer, OutboxMessage
from store.types import UTCDateTime, new_id, utcnow

if TYPE_CHECKING:
    from basics.settings import Settings

EMAIL = "email"
SMS = "sms"
CHANNELS = frozenset({EMAIL, SMS})
SMTP_TIMEOUT_SECONDS = 30
IMPLICIT_TLS_PORT = 465

logger = logging.getLogger("tenantgraph.outbox")


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise ValueError(f"unknown outbox channel {channel!r}")


async def enqueue(
    tx: AsyncSession,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    *,
    message_id: str | None = None,
) -> OutboxMessage:
    """Add a message in the caller's transaction; it is sent only if that transaction commits.

    ``message_id`` lets a caller name the message before it exists (a receipt
    that lists the message carrying it).
    """
    _check_channel(channel)
    message = OutboxMessage(
        id=message_id or new_id(),
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        created_at=utcnow(),
    )
    tx.add(message)
    return message


async def enqueue_if_customer_email(
    tx: AsyncSession, channel: str, recipient: str, subject: str, body: str
) -> None:
    """Add a message to ``recipient`` only if some customer record has that email.

    One ``INSERT ... SELECT ... WHERE EXISTS`` statement, run whether or not
    the address is known: the caller does the same work and sends the same
    statement either way, and only the database knows whether a row was added.
    """
    _check_channel(channel)
    row = select(
        literal(new_id(), String()),
        literal(channel, String()),
        literal(recipient, String()),
        literal(subject, String()),
        literal(body, String()),
        literal(utcnow(), UTCDateTime()),
    ).where(exists().where(Customer.email == recipient))
    await tx.execute(
        insert(OutboxMessage).from_select(
            ["id", "channel", "recipient", "subject", "body", "created_at"], row
        )
    )


class DeliveryError(Exception):
    """A sender could not hand one message over; it stays unsent for the next run."""


class Sender(Protocol):
    """Hands one message to the world (a mail server, an SMS gateway, a terminal)."""

    @property
    def channels(self) -> frozenset[str]:
        """The channels this sender delivers; other messages wait for another sender."""
        ...

    async def send(self, message: OutboxMessage) -> None:
        """Deliver ``message`` or raise ``DeliveryError``."""
        ...


class ConsoleSender:
    """Development: print each message, so a developer can read the codes."""

    channels = CHANNELS

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    async def send(self, message: OutboxMessage) -> None:
        self._stream.write(
            f"--- {message.channel} to {message.recipient} "
            f"({message.created_at.isoformat(timespec='seconds')})\n"
            f"Subject: {message.subject}\n\n{message.body.rstrip()}\n\n"
        )
        self._stream.flush()


@dataclass(frozen=True)
class SmtpSender:
    """Production email through an SMTP server (STARTTLS, or implicit TLS on port 465).

    smtplib blocks, so each message is sent in a worker thread.
    """

    host: str
    port: int
    user: str
    password: str
    from_address: str
    starttls: bool

    channels = frozenset({EMAIL})

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSender:
        if not settings.smtp_host:
            raise ValueError("TENANTGRAPH_SMTP_HOST is not set: there is no mail server to use")
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            user=settings.smtp_user,
            password=settings.smtp_password,
            from_address=settings.smtp_from,
            starttls=settings.smtp_starttls,
        )

    async def send(self, message: OutboxMessage) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: OutboxMessage) -> None:
        email = EmailMessage()
        email["From"] = self.from_address
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email.set_content(message.body)
        context = ssl.create_default_context()
        try:
            smtp: smtplib.SMTP
            if self.port == IMPLICIT_TLS_PORT:
                smtp = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)
            with smtp:
                if self.starttls and self.port != IMPLICIT_TLS_PORT:
                    smtp.starttls(context=context)
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(email)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    # Unsent messages on channels the sender does not deliver (e.g. SMS without a gateway).
    waiting: int


async def deliver(
    sessions: async_sessionmaker[AsyncSession],
    sender: Sender,
    *,
    limit: int = 500,
    mark_sent: bool = True,
    recipient: str | None = None,
) -> DeliveryReport:
    """Hand the oldest unsent messages of the sender's channels to it and mark each one sent.

    With ``mark_sent=False`` (printing in development) they stay waiting; with
    ``recipient``, only the messages to that address are handed over.
    """
    channels = sorted(sender.channels)
    query = select(OutboxMessage).where(
        OutboxMessage.sent_at.is_(None), OutboxMessage.channel.in_(channels)
    )
    if recipient is not None:
        query = query.where(OutboxMessage.recipient == recipient)
    async with sessions() as session:
        pending = list(
            (
                await session.execute(
                    query.order_by(OutboxMessage.created_at, OutboxMessage.id).limit(limit)
                )
            ).scalars()
        )
    sent = failed = 0
    for message in pending:
        try:
            await sender.send(message)
        except DeliveryError as exc:
            failed += 1
            logger.warning("outbox message %s not delivered: %s", message.id, exc)
            continue
        if not mark_sent:
            sent += 1
            continue
        async with write_transaction(sessions) as tx:
            await tx.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id, OutboxMessage.sent_at.is_(None))
                .values(sent_at=utcnow(), body="")
            )
        sent += 1
    async with sessions() as session:
        waiting = (
            await session.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.channel.not_in(channels))
            )
        ).scalar_one()
    return DeliveryReport(sent=sent, failed=failed, waiting=int(waiting))
