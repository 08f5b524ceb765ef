"""Migrations upgrade a store in place, keeping and re-deriving what it holds."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from quantdesk.data.fundamentals.store import FundamentalStore
from quantdesk.domain.fundamentals import FiscalPeriod, StatementFact, filing_known_ns
from quantdesk.persistence import db as db_module
from quantdesk.persistence.db import open_database


def test_upgrading_from_0001_backfills_the_statement_periods(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(db_module._MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        rows = [("ACME", "revenue", 2023, "FY", 1, "2023-12-31", filing_known_ns("2024-02-15"), 100.0),
                ("ACME", "revenue", 2023, "FY", 2, "2023-12-31", filing_known_ns("2024-05-01"), 90.0),
                ("ACME", "net_income", 2023, "FY", 1, "2023-12-31", filing_known_ns("2024-02-15"), 7.0)]  # fmt: skip
        insert = sa.text(
            "INSERT INTO statement_facts (symbol, item, fiscal_year, fiscal_period, version, period_end, known_ns, "
            "value, source, form) VALUES (:s, :i, :y, :p, :v, :e, :k, :x, '', '')"
        )
        for row in rows:
            conn.execute(insert, dict(zip(["s", "i", "y", "p", "v", "e", "k", "x"], row, strict=True)))
    engine.dispose()
    store = FundamentalStore(open_database(url))
    before = store.wide_as_of(["ACME"], filing_known_ns("2024-04-30")).iloc[0]
    after = store.wide_as_of(["ACME"], filing_known_ns("2024-05-01")).iloc[0]
    assert (before["revenue"], before["net_income"]) == (100.0, 7.0)
    assert (after["revenue"], after["net_income"]) == (90.0, 7.0)  # net income carried from the first filing
    quarter = StatementFact(symbol="ACME", item="revenue", fiscal_year=2024, fiscal_period=FiscalPeriod.Q1,
                            period_end="2024-03-31", known_ns=filing_known_ns("2024-04-30"), value=30.0)  # fmt: skip
    store.put_facts([quarter])
    assert len(store.wide_as_of(["ACME"])) == 2
