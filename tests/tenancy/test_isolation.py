"""Tenant isolation: every brand-owned table carries brand_id, walked from the ORM metadata."""

from __future__ import annotations

from crowdcx.all_models import metadata
from crowdcx.kernel.models import PLATFORM_TABLES


def test_every_brand_owned_table_has_brand_id() -> None:
    missing = [
        table.name
        for table in metadata.sorted_tables
        if table.name not in PLATFORM_TABLES and "brand_id" not in table.columns
    ]
    assert missing == [], f"tables without brand_id: {missing}"


def test_brand_id_is_indexed_and_references_brands() -> None:
    for table in metadata.sorted_tables:
        if "brand_id" not in table.columns:
            continue
        column = table.columns["brand_id"]
        assert not column.nullable, table.name
        assert any(fk.column.table.name == "brands" for fk in column.foreign_keys), table.name
        assert any("brand_id" in idx.columns for idx in table.indexes) or column.primary_key, (
            table.name
        )


def test_platform_tables_are_few_and_known() -> None:
    names = {t.name for t in metadata.sorted_tables}
    assert names >= PLATFORM_TABLES
