"""Every persisted column is annotated, and every annotation names a real column."""

from __future__ import annotations

from store.data_map import DATA_MAP, Category, Erasure, RowErasure
from store.models import Base


def test_every_column_is_annotated_and_nothing_else() -> None:
    actual = {(t.name, c.name) for t in Base.metadata.sorted_tables for c in t.columns}
    annotated = {(t, c) for t, m in DATA_MAP.items() for c in m.columns}
    assert actual - annotated == set(), "columns without a data-map annotation"
    assert annotated - actual == set(), "annotations for columns that do not exist"


def test_anonymised_rows_keep_nothing_that_links_to_the_person() -> None:
    """Contact data, names, plates, VINs and free text never survive an anonymisation."""
    linking = {
        Category.NAME,
        Category.CONTACT_EMAIL,
        Category.CONTACT_PHONE,
        Category.CONTACT_ADDRESS,
        Category.VEHICLE_REGISTRATION,
        Category.VEHICLE_VIN,
        Category.FREE_TEXT,
        Category.SUBJECT_LINK,
    }
    for table, mapping in DATA_MAP.items():
        if mapping.rows is not RowErasure.ANONYMISE:
            continue
        for column, note in mapping.columns.items():
            if note.category in linking:
                assert note.erasure in (Erasure.NULL, Erasure.REPLACE), (table, column)


def test_processing_record_is_current_and_covers_every_purpose() -> None:
    from pathlib import Path

    from privacy.record import render_record

    committed = Path(__file__).resolve().parent.parent / "docs" / "processing-record.md"
    record = render_record()
    assert committed.read_text() == record, "regenerate with ./scripts/refresh-docs"
    used = {a.purpose.value for m in DATA_MAP.values() for a in m.columns.values() if a.personal}
    used.discard("operation")
    for purpose in used:
        assert f"| {purpose}: " in record
