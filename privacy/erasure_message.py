"""The erasure receipt as a message to the person (GDPR Art. 12(1) and 17).

The person is told what was deleted, what was anonymised and what is kept,
on what legal basis and until when. The message goes to the address the
request came from, queued in the erasure's own transaction: once it commits
the address is gone from every customer row, and this one message is the
only place it stays, until it has been delivered and the purge removes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from basics.ids import encode_id
from privacy.erasure_receipt import ErasureReceipt, Outcome, RecordOutcome
from privacy.retention import SENT_MESSAGE_DAYS, UNSENT_MESSAGE_DAYS

RECEIPT_BASIS = (
    "GDPR Art. 12(1) and Art. 17: the answer to the person's request, sent to the "
    f"address it came from; deleted {SENT_MESSAGE_DAYS} days after it is sent "
    f"(or {UNSENT_MESSAGE_DAYS} days after it was queued, if it cannot be sent)"
)
RECEIPT_SUBJECT = "Your erasure request has been carried out"
_HEADINGS = {
    Outcome.DELETED: "Deleted",
    Outcome.ANONYMISED: "Anonymised (kept without anything that links it to you)",
    Outcome.RETAINED: "Retained (the law obliges the business to keep it)",
}


def receipt_message_outcome(message_id: str, now: datetime) -> RecordOutcome:
    """The receipt message's own line in the receipt: kept until delivered and purged."""
    until = (now + timedelta(days=UNSENT_MESSAGE_DAYS + SENT_MESSAGE_DAYS)).date()
    return RecordOutcome(
        "OutboxMessage",
        encode_id("OutboxMessage", message_id),
        Outcome.RETAINED,
        RECEIPT_BASIS,
        until,
    )


def receipt_message(receipt: ErasureReceipt, business: str) -> tuple[str, str]:
    """(subject, body): counts per kind of record and outcome, grounds and dates, no values."""
    lines = [
        f"{business} has erased your data on {receipt.erased_at.date().isoformat()}.",
        "",
    ]
    for outcome, heading in _HEADINGS.items():
        counts = [c for c in receipt.counts if c.outcome is outcome]
        if not counts:
            continue
        lines.append(f"{heading}:")
        for count in counts:
            line = f"- {count.entity}: {count.count}"
            if count.retain_until is not None:
                line += f", until {count.retain_until.isoformat()}"
            if count.legal_basis:
                line += f" ({count.legal_basis})"
            lines.append(line)
        lines.append("")
    if receipt.cancelled_bookings:
        lines.append(f"Future bookings cancelled: {receipt.cancelled_bookings}.")
    if receipt.recipients_notified:
        lines.append(f"Recipients told of the erasure: {receipt.recipients_notified}.")
    lines.append("You may complain to Datatilsynet (www.datatilsynet.dk).")
    return RECEIPT_SUBJECT, "\n".join(lines).strip() + "\n"
