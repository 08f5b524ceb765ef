"""Explaining one bar: every signal's value and vote, the confluence, the gate, the composite, the posterior (the
Bayesian one, or the learned probability and the fit behind it), the regime filter's regime, and whether an entry
would fire there and, if not, why not.

The strategy is compiled on the bars up to and including the bar asked for, and nothing after it, so
an explanation shows exactly what was known at that bar's close (the signals pass the truncation
test, so this equals the same bar of a full-history run). The result is a plain dict (the ``--json``
output); ``render_explanation`` prints it with rich.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from quantdesk.analysis.inference.learned_regime import LearnedRegimeSeries
from quantdesk.core.errors import DataError
from quantdesk.core.timestamps import ns_to_iso, to_utc_ns
from quantdesk.data.catalog import Catalog
from quantdesk.domain.bars import Bars
from quantdesk.strategy.compile import EvidenceSources, SignalArrays, compile_signals
from quantdesk.strategy.entry_models import SignalBlock
from quantdesk.strategy.models import Strategy
from quantdesk.strategy.signals import THRESHOLD_TOLERANCE, SignalWorkspace, signal_setup

__all__ = ["explain_at", "explain_bar", "render_explanation"]


def _num(x: Any) -> float | None:
    value = float(x)
    return None if math.isnan(value) else round(value, 6)


def _signal_rows(block: SignalBlock, prefix: str, votes: tuple[np.ndarray, ...], ws: SignalWorkspace) -> list[dict]:
    rows = []
    i = len(ws.base) - 1
    for k, (sig, vote) in enumerate(zip(block.technical_signals, votes, strict=True)):
        params, timeframe = signal_setup(sig, ws.base, f"{prefix}[{k}]")
        own, outputs = ws.outputs(sig.indicator, params, timeframe, f"{prefix}[{k}]")
        # the own-timeframe bar known at the base bar's close
        j = int(np.searchsorted(own.known_ns(), ws.base.known_ns()[i], side="right")) - 1
        lines = {name: (_num(values[j]) if j >= 0 else None) for name, values in outputs.items()}
        rows.append(
            {
                "indicator": sig.indicator,
                "params": params,
                "condition": sig.condition,
                "output": sig.output,
                "values": sig.values,
                "timeframe": sig.timeframe,
                "own_bar": ns_to_iso(int(own.ts[j])) if j >= 0 else None,
                "lines": lines,
                "vote": bool(vote[i]),
                "weight": sig.weight,
            }
        )
    return rows


def _run_length(condition: np.ndarray) -> int:
    """How many bars in a row, ending at the last, ``condition`` holds."""
    falses = np.flatnonzero(~condition)
    return len(condition) if len(falses) == 0 else len(condition) - 1 - int(falses[-1])


def explain_at(strategy: Strategy, bars: Bars, sources: EvidenceSources | None = None) -> dict[str, Any]:
    """The explanation of the last bar of ``bars``."""
    sources = sources if sources is not None else EvidenceSources()
    ws = SignalWorkspace(bars)  # shared with the compile, so the indicators are computed once
    signals: SignalArrays = compile_signals(strategy, bars, sources, ws)
    i = len(bars) - 1
    entry = strategy.entry_conditions
    reasons: list[str] = []
    raw, adjusted = float(signals.entry_confluence[i]), float(signals.adjusted_confluence[i])
    meets = signals.adjusted_confluence >= entry.confluence_threshold - THRESHOLD_TOLERANCE
    held = _run_length(meets)
    if not meets[i]:
        reasons.append(f"confluence {adjusted:.3f} is below the threshold {entry.confluence_threshold:g}")
    elif held <= entry.confirmation_delay:
        reasons.append(
            f"confluence has met the threshold for {held} bar(s); confirmation_delay needs "
            f"{entry.confirmation_delay + 1}"
        )
    result: dict[str, Any] = {
        "strategy": strategy.strategy_meta.name,
        "symbol": bars.symbol,
        "timeframe": bars.timeframe.value,
        "bar": {
            "timestamp": ns_to_iso(int(bars.ts[i])),
            "known_at": ns_to_iso(int(bars.known_ns()[i])),
            "close": float(bars.close[i]),
            "index": i,
        },
        "direction": entry.direction,
        "signals": _signal_rows(entry, "entry_conditions.technical_signals", signals.entry_votes, ws),
        "confluence": {
            "technical": round(raw, 6),
            "adjusted": round(adjusted, 6),
            "threshold": entry.confluence_threshold,
            "bars_at_or_above_threshold": held,
            "confirmation_delay": entry.confirmation_delay,
            "timeframe_alignment": None if signals.alignment is None else int(signals.alignment[i]),
            "divergence_against": None if signals.divergence is None else bool(signals.divergence[i]),
        },
    }
    if signals.gate is not None:
        gate = entry.fundamental_gate
        assert gate is not None
        checks = {
            name: {"threshold": threshold, "passed": bool(signals.gate.checks[name][i])}
            for name, threshold in gate.thresholds().items()
        }
        result["fundamental_gate"] = {
            "logic": gate.logic,
            "inputs": {k: _num(v[i]) for k, v in signals.gate.inputs.items()},
            "checks": checks,
            "passed": bool(signals.gate.passed[i]),
        }
        if not signals.gate.passed[i]:
            failed = [name for name, c in checks.items() if not c["passed"]]
            reasons.append(f"the fundamental gate ({gate.logic}) fails: {', '.join(failed)}")
    if signals.carry_differential is not None:
        diff = _num(signals.carry_differential[i])
        assert entry.carry_gate is not None
        result["carry_gate"] = {"differential_pct": diff, "min_differential_pct": entry.carry_gate.min_differential_pct}
        if diff is None or abs(diff) < entry.carry_gate.min_differential_pct:
            reasons.append(f"the rate differential {diff} is inside +-{entry.carry_gate.min_differential_pct:g} points")
    if signals.composite is not None:
        comp = signals.composite
        result["composite"] = {
            "score": _num(comp.score[i]),
            "coverage": _num(comp.coverage[i]),
            "levels": {
                str(k): {"score": _num(v[i]), "weight": comp.weights[k], "source": comp.sources.get(k, "")}
                for k, v in comp.levels.items()
            },
            "missing": {str(k): why for k, why in comp.missing.items()},
            "stale": comp.stale_notes(i),
            "min_composite_score": entry.min_composite_score,
        }
        if entry.min_composite_score is not None and not (comp.score[i] >= entry.min_composite_score):
            reasons.append(f"the composite {_num(comp.score[i])} is below {entry.min_composite_score:g}")
    if signals.posterior is not None:
        post = signals.posterior
        names = [f"{s.indicator}:{s.condition}@{s.timeframe}" for s in entry.technical_signals]
        result["posterior"] = {
            "p_up": _num(post.posterior[i]),
            "prior_up": _num(post.prior_up[i]),
            "labels_seen": int(post.n_labels[i]),
            "log_likelihood_ratios": {name: _num(post.log_lr[k, i]) for k, name in enumerate(names)},
        }
        floor = entry.inference.min_posterior if entry.inference is not None else None
        if floor is not None and not (post.posterior[i] >= floor):
            reasons.append(f"the posterior {_num(post.posterior[i])} is below min_posterior {floor:g}")
    if signals.learned_posterior is not None:
        learned = signals.learned_posterior
        j = int(learned.fit_index[i])
        fit = learned.fits[j] if j >= 0 else None
        result["learned_posterior"] = {
            "model": "gradient_boosting",
            "calibration": learned.settings.calibration,
            "p_up": _num(learned.probability[i]),
            "labels_seen": int(learned.n_labels[i]),
            "fitted_through": ns_to_iso(fit.fitted_through_ns) if fit is not None else None,
            "refit_every_bars": learned.settings.refit_every_bars,
        }
        floor = entry.inference.min_posterior if entry.inference is not None else None
        if floor is not None and not (learned.probability[i] >= floor):
            reasons.append(f"the learned P(up) {_num(learned.probability[i])} is below min_posterior {floor:g}")
    if signals.regime is not None:
        regime = signals.regime
        name = regime.name_at(i)
        shown: dict[str, Any] = {"model": regime.model, "regime": name, "allowed": list(regime.allowed_regimes),
                                 "passed": bool(regime.allowed[i])}  # fmt: skip
        if isinstance(regime.regimes, LearnedRegimeSeries):
            series = regime.regimes
            j = int(series.fit_index[i])
            shown["probabilities"] = {n: _num(series.probabilities[k, i]) for k, n in enumerate(series.names)}
            shown["fitted_through"] = ns_to_iso(series.fits[j].fitted_through_ns) if j >= 0 else None
        result["regime_filter"] = shown
        if not regime.allowed[i]:
            reasons.append(f"the regime {name} ({regime.model}) is not one of {', '.join(regime.allowed_regimes)}")
    if strategy.exit_conditions.signal_exit is not None:
        block = strategy.exit_conditions.signal_exit
        result["signal_exit"] = {
            "signals": _signal_rows(block, "exit_conditions.signal_exit.technical_signals", signals.exit_votes, ws),
            "confluence": round(float(signals.exit_confluence[i]), 6),
            "threshold": block.confluence_threshold,
            "fires": bool(signals.exit[i]),
        }
    fires = bool(signals.entry[i]) or (entry.direction == "both" and bool(signals.short_entry[i]))
    result["entry"] = {"fires": fires, "why_not": [] if fires else reasons or ["no entry condition is met"]}
    result["notes"] = list(signals.notes)
    return result


def explain_bar(strategy: Strategy, catalog: Catalog, symbol: str, timeframe: str, at: str) -> dict[str, Any]:
    """The explanation of ``symbol``'s last ``timeframe`` bar at or before ``at`` (read up to that bar only)."""
    from quantdesk.data.fundamentals.store import FundamentalStore

    at_ns = to_utc_ns(at, what="--at")
    bars = catalog.read_bars(symbol, timeframe, None, at_ns)
    if len(bars) == 0:
        raise DataError(f"--at {at}: {symbol} has no {timeframe} bar at or before it")
    sources = EvidenceSources(catalog=catalog, fundamentals=FundamentalStore())
    return explain_at(strategy, bars, sources)


def render_explanation(ex: dict[str, Any], console: Console) -> None:
    bar = ex["bar"]
    console.print(
        f"[bold]{ex['strategy']}[/bold] · {ex['symbol']} {ex['timeframe']} bar {bar['timestamp']} "
        f"(known {bar['known_at']}), close {bar['close']:g}, direction {ex['direction']}",
        highlight=False,
    )
    table = Table(title="technical signals")
    for column in ("signal", "timeframe", "lines at the bar", "vote", "weight"):
        table.add_column(column, overflow="fold")
    for s in ex["signals"]:
        level = f" {s['values']}" if s["values"] else ""
        line = f"{s['indicator']}{s['params']} {s['output'] + ' ' if s['output'] else ''}{s['condition']}{level}"
        lines = ", ".join(f"{k}={v:.4g}" if v is not None else f"{k}=n/a" for k, v in s["lines"].items())
        table.add_row(
            line, s["timeframe"], lines, "[green]yes[/green]" if s["vote"] else "[red]no[/red]", f"{s['weight']:g}"
        )
    console.print(table)
    c = ex["confluence"]
    console.print(
        f"confluence {c['technical']:.3f} (adjusted {c['adjusted']:.3f}) vs threshold {c['threshold']:g}; "
        f"{c['bars_at_or_above_threshold']} bar(s) at or above it, confirmation_delay {c['confirmation_delay']}",
        highlight=False,
    )
    if "fundamental_gate" in ex:
        g = ex["fundamental_gate"]
        checks = ", ".join(
            f"{k} {v['threshold']:g}: {'pass' if v['passed'] else 'FAIL'}" for k, v in g["checks"].items()
        )
        inputs = ", ".join(f"{k}={v:.4g}" if v is not None else f"{k}=unknown" for k, v in g["inputs"].items())
        console.print(
            f"fundamental gate ({g['logic']}): {'PASS' if g['passed'] else 'FAIL'}; {checks}; inputs {inputs}"
        )
    if "carry_gate" in ex:
        console.print(f"carry gate: differential {ex['carry_gate']['differential_pct']} points")
    if "composite" in ex:
        comp = ex["composite"]
        levels = ", ".join(
            f"L{k}={v['score']} (w {v['weight']:g}{'; from ' + v['source'] if v.get('source') else ''})"
            for k, v in comp["levels"].items()
        )
        missing = "; ".join(
            [f"L{k} missing: {why}" for k, why in comp["missing"].items()]
            + [f"L{k} missing (stale): {why}" for k, why in comp.get("stale", {}).items()]
        )
        console.print(f"drill-down composite {comp['score']} (coverage {comp['coverage']}): {levels}. {missing}")
    if "posterior" in ex:
        p = ex["posterior"]
        console.print(
            f"posterior P(up) {p['p_up']} (prior {p['prior_up']}, {p['labels_seen']} outcomes seen); "
            f"log-likelihood ratios {p['log_likelihood_ratios']}",
            highlight=False,
        )
    if "learned_posterior" in ex:
        p = ex["learned_posterior"]
        console.print(
            f"learned P(up) {p['p_up']} ({p['model']}, {p['calibration']} calibration; {p['labels_seen']} outcomes, "
            f"fitted through {p['fitted_through']})",
            highlight=False,
        )
    if "regime_filter" in ex:
        r = ex["regime_filter"]
        probabilities = f"; probabilities {r['probabilities']}" if "probabilities" in r else ""
        console.print(
            f"regime ({r['model']}): {r['regime']} - {'allowed' if r['passed'] else 'NOT allowed'} "
            f"(allowed: {', '.join(r['allowed'])}){probabilities}",
            highlight=False,
        )
    decision = ex["entry"]
    if decision["fires"]:
        console.print("[green]entry fires[/green] on this bar's close (filled at the next bar's open)")
    else:
        console.print("[red]no entry[/red]: " + "; ".join(decision["why_not"]), highlight=False)
