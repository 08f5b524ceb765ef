"""``quantdesk optimize`` and ``quantdesk walkforward``: the strategy file's optimization block searched, and walked
forward, with progress bars, a table, the HTML or JSON report, and ``--write-best``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from quantdesk.cli.backtest import (
    BenchmarkOption,
    CapitalOption,
    EndOption,
    StartOption,
    SymbolsOption,
    TimeframeOption,
    TradeFromOption,
    UniverseOption,
    prepared,
    run_spec,
)
from quantdesk.cli.common import app, out, progress
from quantdesk.core.errors import ConfigError

SAMPLERS = ("grid", "tpe", "nsga2", "random")
EXECUTORS = ("local", "celery")
MODES = ("rolling", "expanding", "cpcv")

TrialsOption = Annotated[int | None, typer.Option("--trials", help="trials to run (default: the file's)")]
SamplerOption = Annotated[str | None, typer.Option("--sampler", help="grid, tpe, nsga2 or random")]
SeedOption = Annotated[int | None, typer.Option("--seed", help="the sampler's seed (default: the file's)")]
ExecutorOption = Annotated[str, typer.Option("--executor", help="local (a process pool) or celery")]
WorkersOption = Annotated[int | None, typer.Option("--workers", help="local executor: processes (default: cores)")]
ReportOption = Annotated[Path | None, typer.Option("--report", help="write the report here (.html or .json)")]
JsonOption = Annotated[Path | None, typer.Option("--json", help="write the JSON report here")]
WriteBestOption = Annotated[
    Path | None, typer.Option("--write-best", help="write the strategy file with the chosen values here")
]


def _check_choice(option: str, value: str | None, valid: tuple[str, ...]) -> None:
    if value is not None and value not in valid:
        raise ConfigError(f"{option}: expected one of {', '.join(valid)}, found {value!r}")


def _check_paths(report: Path | None, json_out: Path | None, write_best: Path | None) -> None:
    if report is not None and report.suffix.lower() not in (".html", ".htm", ".json"):
        raise ConfigError(f"--report: expected a file ending in .html or .json, found {str(report)!r}")
    if json_out is not None and json_out.suffix.lower() != ".json":
        raise ConfigError(f"--json: expected a file ending in .json, found {str(json_out)!r}")
    if write_best is not None and write_best.suffix.lower() != ".json":
        raise ConfigError(f"--write-best: expected a file ending in .json, found {str(write_best)!r}")


def _check_workers(workers: int | None, executor: str) -> None:
    if workers is not None and (workers < 1 or executor != "local"):
        raise ConfigError(f"--workers: expected a number of processes >= 1 with --executor local, found {workers}")


def _executor_options(executor: str, workers: int | None) -> dict[str, Any]:
    return {"max_workers": workers} if executor == "local" and workers is not None else {}


def _needs_block(run: Any, strategy_file: Path) -> None:
    if run.strategy.optimization is None:
        raise ConfigError(
            f"{strategy_file}: the strategy file has no optimization block; add one naming the parameters to "
            "search (docs/optimize.md)"
        )


def _metric(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _write_outputs(doc: dict[str, Any], report: Path | None, json_out: Path | None) -> None:
    from quantdesk.optimize.report import write_report

    for path in (report, json_out):
        if path is not None:
            write_report(doc, path)
            out.print(f"report: {escape(str(path))}")


def _write_best(space_document: dict[str, Any] | None, write_best: Path | None) -> None:
    if write_best is None:
        return
    if space_document is None:
        raise ConfigError("--write-best: no trial completed, so there are no chosen values to write")
    from quantdesk.optimize.report import write_strategy

    write_strategy(space_document, write_best)
    out.print(f"best parameters written to {escape(str(write_best))}")


def _statistics_line(stats: dict[str, Any]) -> str:
    parts = [f"trials {stats['n_trials']}", f"PSR {_metric(stats['psr'])}", f"DSR {_metric(stats['dsr'])}",
             f"PBO {_metric(stats['pbo'])}"]  # fmt: skip
    return " · ".join(parts)


@app.command("optimize")
def optimize_command(
    strategy_file: Annotated[Path, typer.Argument(help="strategy JSON file with an optimization block")],
    symbols: SymbolsOption = None,
    universe: UniverseOption = None,
    benchmark: BenchmarkOption = None,
    timeframe: TimeframeOption = "1d",
    start: StartOption = None,
    end: EndOption = None,
    capital: CapitalOption = 100_000.0,
    trade_from: TradeFromOption = None,
    trials: TrialsOption = None,
    sampler: SamplerOption = None,
    seed: SeedOption = None,
    executor: ExecutorOption = "local",
    workers: WorkersOption = None,
    report: ReportOption = None,
    json_out: JsonOption = None,
    write_best: WriteBestOption = None,
) -> None:
    """Search the strategy file's optimization block on stored bars (in sample) and report every trial with the
    overfitting statistics of the search: PSR, DSR (with the trials actually run) and PBO. A grid or random
    search shares its points among the executor's workers; TPE and NSGA-II run in this process."""
    from quantdesk.optimize.executors import open_executor
    from quantdesk.optimize.run import optimize

    _check_choice("--sampler", sampler, SAMPLERS)
    _check_choice("--executor", executor, EXECUTORS)
    if trials is not None and trials < 1:
        raise ConfigError(f"--trials: expected at least 1, found {trials}")
    _check_workers(workers, executor)
    _check_paths(report, json_out, write_best)
    spec = run_spec(strategy_file, symbols, universe, benchmark, timeframe, start, end, capital, trade_from)
    run = prepared(spec)
    _needs_block(run, strategy_file)
    opt = run.strategy.optimization
    total = None if (sampler or opt.sampler) == "grid" else (trials if trials is not None else opt.trials)
    with open_executor(executor, **_executor_options(executor, workers)) as pool, \
            progress(f"optimising {run.label}", total=total) as advance:  # fmt: skip
        result = optimize(run, sampler=sampler, trials=trials, seed=seed, on_trial=lambda _t: advance(),
                          executor=pool)  # fmt: skip
    doc = result.document
    table = Table(title=f"{escape(run.strategy.strategy_meta.name)}: best trials ({escape(doc['objectives'][0])})")
    for name in (*doc["parameters"], doc["objectives"][0], "trades"):
        table.add_column(escape(name), justify="right")
    done = sorted((t for t in doc["trials"] if t["state"] == "complete"), key=lambda t: -t["objective"][0])[:10]
    for t in done:
        table.add_row(*[escape(str(t["values"][n])) for n in doc["parameters"]], _metric(t["objective"][0]),
                      str(int(t["metrics"]["n_trades"])))  # fmt: skip
    out.print(table)
    out.print(_statistics_line(doc["statistics"]), highlight=False)
    for note in doc["statistics"]["notes"] + doc["search_notes"]:
        out.print(f"[yellow]note[/yellow] {escape(note)}", highlight=False)
    if doc["best"] is None:
        out.print("no trial completed (too few trades or an undefined objective in every one)")
    else:
        shown = ", ".join(f"{k}={v}" for k, v in doc["best"]["values"].items())
        out.print(f"best: {escape(shown)}", highlight=False)
    _write_outputs(doc, report, json_out)
    _write_best(doc["best_file"], write_best)


@app.command("walkforward")
def walkforward_command(
    strategy_file: Annotated[Path, typer.Argument(help="strategy JSON file with an optimization block")],
    symbols: SymbolsOption = None,
    universe: UniverseOption = None,
    benchmark: BenchmarkOption = None,
    timeframe: TimeframeOption = "1d",
    start: StartOption = None,
    end: EndOption = None,
    capital: CapitalOption = 100_000.0,
    train: Annotated[str | None, typer.Option("--train", help="training length: 2y, 6m, 3w, 10d")] = None,
    test: Annotated[str | None, typer.Option("--test", help="test length")] = None,
    step: Annotated[str | None, typer.Option("--step", help="how far windows move on (default: --test)")] = None,
    mode: Annotated[str | None, typer.Option("--mode", help="rolling, expanding or cpcv")] = None,
    trials: TrialsOption = None,
    sampler: SamplerOption = None,
    seed: SeedOption = None,
    executor: ExecutorOption = "local",
    workers: WorkersOption = None,
    report: ReportOption = None,
    json_out: JsonOption = None,
    write_best: WriteBestOption = None,
) -> None:
    """Walk the strategy forward: optimise on each training window, test the chosen values on the window after
    it, and report in-sample against out-of-sample, the stitched out-of-sample equity, parameter stability, the
    trades by regime, DSR, PSR and PBO. --write-best writes the last window's choice."""
    from quantdesk.optimize.run import walkforward

    _check_choice("--sampler", sampler, SAMPLERS)
    _check_choice("--mode", mode, MODES)
    _check_choice("--executor", executor, EXECUTORS)
    if trials is not None and trials < 1:
        raise ConfigError(f"--trials: expected at least 1, found {trials}")
    _check_workers(workers, executor)
    _check_paths(report, json_out, write_best)
    spec = run_spec(strategy_file, symbols, universe, benchmark, timeframe, start, end, capital)
    run = prepared(spec)
    _needs_block(run, strategy_file)
    from quantdesk.optimize.executors import open_executor

    with open_executor(executor, **_executor_options(executor, workers)) as pool, \
            progress(f"walking {run.label} forward") as advance:  # fmt: skip

        def tick(done: int, total: int) -> None:
            advance(description=f"{run.label}: window {done} of {total} done")

        result = walkforward(run, mode=mode, train=train, test=test, step=step, sampler=sampler, trials=trials,
                             seed=seed, executor=pool, progress=tick)  # fmt: skip
    doc = result.document
    summary = doc["summary"]
    table = Table(title=f"{escape(run.strategy.strategy_meta.name)}: walk-forward ({escape(doc['settings']['mode'])})")
    for name in ("window", "test from", "chosen", "IS Sharpe", "OOS Sharpe", "OOS trades", "DSR", "PBO"):
        table.add_column(name, justify="right")
    for w in summary["windows"]:
        chosen = ", ".join(f"{k}={v}" for k, v in (w["values"] or {}).items())
        ins, oos = w["in_sample"] or {}, w["out_of_sample"] or {}
        table.add_row(str(w["index"]), w["test_start"][:10], escape(chosen), _metric(ins.get("sharpe")),
                      _metric(oos.get("sharpe")), str(int(oos.get("n_trades") or 0)), _metric(w["dsr"]),
                      _metric(w["pbo"]))  # fmt: skip
    out.print(table)
    stats = summary["out_of_sample_statistics"]
    out.print(f"stitched out of sample: {stats['days']} days, Sharpe {_metric(stats.get('annual_sharpe'))} a year, "
              f"PSR {_metric(stats['psr'])}; {stats['n_trials']} trials over {len(summary['windows'])} windows",
              highlight=False)  # fmt: skip
    _write_outputs(doc, report, json_out)
    last = next((w for w in reversed(doc["windows"]) if w["best_values"] is not None), None)
    best_file = None
    if last is not None:
        from quantdesk.optimize.space import SearchSpace

        best_file = SearchSpace(run.strategy).document(last["best_values"])
    _write_best(best_file, write_best)
