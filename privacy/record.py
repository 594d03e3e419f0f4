"""The record of processing activities (GDPR Art. 30), derived from the data map.

The businesses are the controllers (Art. 30(1)) and this service's operator the
processor (Art. 30(2)); both records need the categories of data, the purposes
and their legal bases, the recipients and the time limits for erasure. All of
it comes from the annotations in ``store/data_map.py`` and the partner roles in
the policy, so the record cannot drift from what the service does.
"""

from __future__ import annotations

from collections import defaultdict

from store.data_map import DATA_MAP, PURPOSE_FACTS, RETENTION_FACTS, Category, Purpose

# Who receives personal data besides the business's own staff, by purpose.
RECIPIENTS: dict[Purpose, str] = {
    Purpose.BOOKING: "the business's staff; the person's own portal",
    Purpose.BOOKKEEPING: "the business's accounting integration (partner_accounting), auditors",
    Purpose.INSPECTION: "the business's staff; statutory reporting to the vehicle register",
    Purpose.SERVICE_REMINDERS: "the business's reminder integration (partner_reminders)",
    Purpose.PRIVACY_RIGHTS: "the business's administrator; the person",
    Purpose.SECURITY: "the business's administrator; the processor's operators (no values)",
}
SECURITY_MEASURES = [
    "Field-level access control per role and relation, decided by a versioned Casbin policy; "
    "rows scoped in SQL to the caller's tenant or own records",
    "Partner API keys stored as SHA-256 hashes; short-lived signed bearer tokens",
    "Hash-chained, append-only audit trail of every write to personal data",
    "Erasure that deletes or anonymises per the data map; "
    "secure_delete and WAL checkpoint on SQLite",
    "Request logs and metrics without personal values",
]


def render_record() -> str:
    by_purpose: dict[Purpose, set[Category]] = defaultdict(set)
    tables: dict[Purpose, set[str]] = defaultdict(set)
    for table, mapping in DATA_MAP.items():
        for annotation in mapping.columns.values():
            if annotation.personal and annotation.category is not Category.IDENTIFIER:
                by_purpose[annotation.purpose].add(annotation.category)
                tables[annotation.purpose].add(table)
    lines = [
        "# Record of processing activities (GDPR Art. 30)",
        "",
        "Controller: each business (tenant) for its own customers. Processor: the operator "
        "of this service, acting on the businesses' instructions. Data subjects: the "
        "businesses' customers (people who book, by themselves or by phone).",
        "",
        "| purpose | legal basis | categories of personal data | stored in | recipients | "
        "time limit for erasure |",
        "|---|---|---|---|---|---|",
    ]
    for purpose in sorted(by_purpose, key=lambda p: p.value):
        description, basis = PURPOSE_FACTS[purpose]
        lines.append(
            f"| {purpose.value}: {description} | {basis} | "
            f"{', '.join(sorted(c.value for c in by_purpose[purpose]))} | "
            f"{', '.join(sorted(tables[purpose]))} | {RECIPIENTS.get(purpose, '—')} | "
            f"{RETENTION_FACTS[purpose]} |"
        )
    lines += ["", "Technical and organisational security measures (Art. 32):", ""]
    lines += [f"- {measure}" for measure in SECURITY_MEASURES]
    lines += [
        "",
        "Transfers to third countries: none (the service stores data where it is deployed).",
    ]
    return "\n".join(lines) + "\n"
