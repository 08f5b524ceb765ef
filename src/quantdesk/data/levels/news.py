"""Level 1: news and geopolitical event sentiment, scored offline by VADER over a pluggable text source.

A text source is anything with ``headlines() -> list[Headline]``; ``HeadlineFile`` reads a JSONL file (one
object a line) or a CSV file with a publication time (``time``/``published``/``timestamp``, ISO 8601 with an
offset, or a naive time read in ``tz``), the text (``headline``/``title``/``text``) and optionally a ``symbol``.
Each headline is scored by VADER's compound polarity in [-1, 1] (the ``vaderSentiment`` package, which ships its
lexicon: no download, no network). ``daily_sentiment`` averages the scores of each UTC day into a daily series
(kind ``sentiment``), each day's value known at that day's last headline: a bar closing before it cannot see it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from quantdesk.core.errors import ConfigError, DataError
from quantdesk.core.timestamps import NS_PER_DAY
from quantdesk.domain.series import MacroSeries
from quantdesk.domain.symbols import symbol_problem

SCORER = "VADER compound polarity (vaderSentiment, offline lexicon)"
_TIME = ("time", "published", "timestamp", "published_at", "datetime")
_TEXT = ("headline", "title", "text")


@dataclass(frozen=True, slots=True)
class Headline:
    published_ns: int
    text: str
    symbol: str = ""  # "" market-wide


class TextSource(Protocol):
    def headlines(self) -> list[Headline]: ...


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def score_text(text: str) -> float:
    """VADER's compound score of ``text``: -1 most negative, 0 neutral, 1 most positive."""
    return float(_analyzer().polarity_scores(text)["compound"])


def _pick(columns: list[str], names: tuple[str, ...], source: str, what: str) -> str:
    lower = {c.strip().lower(): c for c in columns}
    hit = next((lower[n] for n in names if n in lower), None)
    if hit is None:
        raise DataError(f"no {what} column", source=source, expected=f"a column named {' or '.join(names)}",
                        found=f"columns {', '.join(columns) or 'none'}")  # fmt: skip
    return hit


class HeadlineFile:
    """Headlines from a ``.jsonl``/``.json`` (one object a line) or ``.csv`` file; every row checked on read."""

    def __init__(self, path: Path | str, *, tz: str | None = None) -> None:
        self.path, self.tz = Path(path), tz

    def _frame(self) -> pd.DataFrame:
        source = str(self.path)
        if not self.path.is_file():
            raise DataError("file not found", source=source, expected="a .jsonl or .csv file of headlines")
        suffix = self.path.suffix.lower()
        if suffix == ".csv":
            return pd.read_csv(self.path, dtype=str, keep_default_na=False)
        if suffix not in (".jsonl", ".json", ".ndjson"):
            raise ConfigError(f"{source}: expected a .jsonl or .csv file, found {suffix or 'no extension'!r}")
        rows = []
        for i, line in enumerate(self.path.read_text(encoding="utf-8").splitlines()):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"not JSON: {exc.msg}", source=source, row=i + 1, expected="one JSON object a line",
                                found=repr(line[:60])) from None  # fmt: skip
            if not isinstance(row, dict):
                raise DataError("not an object", source=source, row=i + 1, expected="a JSON object",
                                found=type(row).__name__)  # fmt: skip
            rows.append({k: "" if v is None else str(v) for k, v in row.items()})
        return pd.DataFrame(rows)

    def headlines(self) -> list[Headline]:
        source = str(self.path)
        frame = self._frame()
        if frame.empty:
            raise DataError("the file has no headlines", source=source)
        columns = [str(c) for c in frame.columns]
        t_col, x_col = _pick(columns, _TIME, source, "time"), _pick(columns, _TEXT, source, "headline")
        s_col = next((c for c in columns if c.strip().lower() == "symbol"), None)
        out = []
        for i, row in enumerate(frame.fillna("").astype(str).to_dict("records")):
            raw = row[t_col].strip()
            stamp: Any
            try:
                stamp = pd.Timestamp(raw)
            except (ValueError, TypeError):
                stamp = pd.NaT
            if stamp is pd.NaT or raw == "":
                raise DataError("unparseable time", source=source, row=i + 1, column=t_col,
                                expected="an ISO 8601 time such as 2024-03-01T14:30:00Z", found=repr(raw))  # fmt: skip
            if stamp.tzinfo is None:
                if not self.tz:
                    raise DataError("time without a time zone", source=source, row=i + 1, column=t_col,
                                    expected="an offset (…Z, …+01:00) or --tz", found=repr(raw))  # fmt: skip
                stamp = stamp.tz_localize(self.tz)
            text = row[x_col].strip()
            if not text:
                raise DataError("empty headline", source=source, row=i + 1, column=x_col, expected="some text",
                                found="an empty cell")  # fmt: skip
            symbol = row[s_col].strip() if s_col else ""
            if symbol and (problem := symbol_problem(symbol)) is not None:
                raise DataError(f"bad symbol: {problem}", source=source, row=i + 1, column=s_col)
            out.append(Headline(int(stamp.tz_convert("UTC").as_unit("ns").value), text, symbol))
        return out


def daily_sentiment(headlines: list[Headline], *, name: str = "NEWS_SENTIMENT", symbol: str = "",
                    source: str = "headlines") -> MacroSeries:  # fmt: skip
    """The mean VADER score of each UTC day's headlines (those of ``symbol``; "" all), known at its last headline."""
    chosen = [h for h in headlines if not symbol or h.symbol == symbol]
    if not chosen:
        raise DataError(f"no headlines{' for ' + symbol if symbol else ''}", source=source)
    times = np.array([h.published_ns for h in chosen], dtype=np.int64)
    scores = np.array([score_text(h.text) for h in chosen])
    days = times // NS_PER_DAY * NS_PER_DAY
    frame = pd.DataFrame({"day": days, "t": times, "s": scores}).groupby("day").agg(t=("t", "max"), s=("s", "mean"))
    return MacroSeries(
        name=name, ts=frame.index.to_numpy(np.int64), known_ts=frame["t"].to_numpy(np.int64),
        value=frame["s"].to_numpy(np.float64), description=f"daily mean news sentiment, {SCORER}",
        unit="compound score, -1 to 1", frequency="daily", source=source, kind="sentiment", symbol=symbol,
    )  # fmt: skip
