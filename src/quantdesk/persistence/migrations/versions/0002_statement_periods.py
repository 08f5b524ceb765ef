"""Statement periods: each fiscal period's figures as known after each of its filings, one wide row each.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statement_periods",
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("fiscal_year", sa.Integer, nullable=False),
        sa.Column("fiscal_period", sa.String(2), nullable=False),
        sa.Column("known_ns", sa.BigInteger, nullable=False),
        sa.Column("period_end", sa.String(10), nullable=False),
        sa.Column("revenue", sa.Float, nullable=True),
        sa.Column("cost_of_revenue", sa.Float, nullable=True),
        sa.Column("gross_profit", sa.Float, nullable=True),
        sa.Column("sga_expense", sa.Float, nullable=True),
        sa.Column("depreciation_amortization", sa.Float, nullable=True),
        sa.Column("operating_income", sa.Float, nullable=True),
        sa.Column("interest_expense", sa.Float, nullable=True),
        sa.Column("pretax_income", sa.Float, nullable=True),
        sa.Column("income_tax", sa.Float, nullable=True),
        sa.Column("net_income", sa.Float, nullable=True),
        sa.Column("eps_diluted", sa.Float, nullable=True),
        sa.Column("shares_diluted", sa.Float, nullable=True),
        sa.Column("cash", sa.Float, nullable=True),
        sa.Column("short_term_investments", sa.Float, nullable=True),
        sa.Column("receivables", sa.Float, nullable=True),
        sa.Column("inventory", sa.Float, nullable=True),
        sa.Column("current_assets", sa.Float, nullable=True),
        sa.Column("ppe_net", sa.Float, nullable=True),
        sa.Column("total_assets", sa.Float, nullable=True),
        sa.Column("current_liabilities", sa.Float, nullable=True),
        sa.Column("short_term_debt", sa.Float, nullable=True),
        sa.Column("long_term_debt", sa.Float, nullable=True),
        sa.Column("total_liabilities", sa.Float, nullable=True),
        sa.Column("retained_earnings", sa.Float, nullable=True),
        sa.Column("shareholders_equity", sa.Float, nullable=True),
        sa.Column("shares_outstanding", sa.Float, nullable=True),
        sa.Column("operating_cash_flow", sa.Float, nullable=True),
        sa.Column("capex", sa.Float, nullable=True),
        sa.Column("dividends_paid", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("symbol", "fiscal_year", "fiscal_period", "known_ns"),
    )
    op.create_index("ix_statement_periods_known", "statement_periods", ["known_ns"])
    _backfill()


_ITEMS = (
    "revenue", "cost_of_revenue", "gross_profit", "sga_expense", "depreciation_amortization", "operating_income",
    "interest_expense", "pretax_income", "income_tax", "net_income", "eps_diluted", "shares_diluted", "cash",
    "short_term_investments", "receivables", "inventory", "current_assets", "ppe_net", "total_assets",
    "current_liabilities", "short_term_debt", "long_term_debt", "total_liabilities", "retained_earnings",
    "shareholders_equity", "shares_outstanding", "operating_cash_flow", "capex", "dividends_paid",
)  # fmt: skip


def _backfill() -> None:
    """Rows for the facts already stored: per period and filing time, each item's newest version by then."""
    import pandas as pd

    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT symbol, item, fiscal_year, fiscal_period, version, period_end, known_ns, value "
                "FROM statement_facts")
    ).all()  # fmt: skip
    if not rows:
        return
    facts = pd.DataFrame(rows, columns=["symbol", "item", "fiscal_year", "fiscal_period", "version", "period_end",
                                        "known_ns", "value"])  # fmt: skip
    facts = facts.sort_values(["symbol", "item", "fiscal_year", "fiscal_period", "version"])
    period = ["symbol", "fiscal_year", "fiscal_period"]
    wide = facts.pivot_table(index=[*period, "known_ns"], columns="item", values="value", aggfunc="last")
    wide = wide.reindex(columns=list(_ITEMS)).sort_index().groupby(level=period, sort=False).ffill()
    ends = facts.groupby([*period, "known_ns"])["period_end"].max()
    wide.insert(0, "period_end", ends.reindex(wide.index).to_numpy())
    table = sa.table("statement_periods", *[sa.column(c) for c in [*period, "known_ns", "period_end", *_ITEMS]])
    out = wide.reset_index()
    records: list[dict[str, Any]] = out.astype(object).where(out.notna(), None).to_dict("records")  # type: ignore[assignment]
    for start in range(0, len(records), 5_000):
        conn.execute(table.insert(), records[start : start + 5_000])


def downgrade() -> None:
    op.drop_table("statement_periods")
