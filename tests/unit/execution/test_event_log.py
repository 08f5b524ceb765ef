"""The append-only event log: a JSON-lines round trip of every event type, a torn last line cut off and
reported, damage before it refused, and replay into orders."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from quantdesk.core.errors import DataError, StoreError
from quantdesk.domain.order_events import (
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)
from quantdesk.domain.orders import OrderSide, OrderStatus
from quantdesk.execution.event_log import InMemoryEventLog, JsonlEventLog, event_line, read_event_file, replay

from .kit import T0, coid, new_order


def submitted(n: int, qty: float = 100.0, limit: float = math.nan) -> OrderSubmitted:
    o = new_order(n, qty=qty, limit=limit)
    return OrderSubmitted(
        ts_ns=o.submitted_ns,
        client_order_id=o.client_order_id,
        symbol="AAA",
        kind=o.kind,
        side=o.side,
        order_type=o.order_type,
        time_in_force=o.time_in_force,
        quantity_units=qty,
        limit_price=limit,
        stop_price=math.nan,
        reason="entry",
    )


def filled(n: int, qty: float, price: float, ts: int) -> OrderFilled:
    return OrderFilled(
        ts_ns=ts,
        client_order_id=coid(n),
        symbol="AAA",
        fill_id=f"{coid(n)}/{ts}",
        side=OrderSide.BUY,
        quantity_units=qty,
        price=price,
        commission=0.5,
        spread_slippage=0.25,
        impact=0.0,
        trade_id=None,
    )


def every_type() -> list[OrderEvent]:
    return [
        submitted(0, limit=101.5),
        OrderAccepted(ts_ns=T0 + 1, client_order_id=coid(0), symbol="AAA"),
        filled(0, 40.0, 101.25, T0 + 2),
        OrderAmended(
            ts_ns=T0 + 3,
            client_order_id=coid(0),
            symbol="AAA",
            quantity_units=80.0,
            limit_price=101.0,
            stop_price=math.nan,
        ),
        OrderCancelled(ts_ns=T0 + 4, client_order_id=coid(0), symbol="AAA", filled_units=40.0),
        submitted(1),
        OrderRejected(ts_ns=T0 + 5, client_order_id=coid(1), symbol="AAA", reason="no such instrument"),
        OrderDenied(ts_ns=T0 + 6, client_order_id=coid(2), symbol="AAA", reason="max_positions", value=3.0, limit=3.0),
        submitted(3),
        OrderExpired(ts_ns=T0 + 7, client_order_id=coid(3), symbol="AAA", filled_units=0.0),
    ]


def test_a_jsonl_log_reads_back_every_event_type_as_written(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = JsonlEventLog(path)
    for e in every_type():
        log.append(e)
    log.close()
    again = JsonlEventLog(path)
    assert again.torn_line is None
    assert [type(e) for e in again.events()] == [type(e) for e in every_type()]
    assert [e.to_dict() for e in again.events()] == [e.to_dict() for e in every_type()]
    assert math.isnan(again.events()[3].stop_price)  # NaN written as null comes back NaN
    assert len(path.read_text().splitlines()) == 10


@pytest.mark.parametrize("event", [
    *every_type(),
    filled(4, 1e-7, float("inf"), T0 + 123_456),  # a tiny quantity in exponent form, an infinite price as null
    OrderRejected(ts_ns=T0 + 1_000, client_order_id=coid(5), symbol='Ä"\\x', reason="tab\there, é ✓"),
])  # fmt: skip
def test_each_line_is_the_events_dict_as_json_dumps_writes_it(event: OrderEvent) -> None:
    assert event_line(event) == json.dumps(event.to_dict(), sort_keys=True, allow_nan=False)


def test_a_torn_last_line_is_cut_off_and_reported_and_the_log_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = JsonlEventLog(path)
    for e in every_type()[:3]:
        log.append(e)
    log.close()
    whole = path.read_bytes()
    with path.open("ab") as f:
        f.write(b'{"event": "OrderFilled", "client_order_id": "')  # killed in the middle of a write
    again = JsonlEventLog(path)
    assert again.torn_line == '{"event": "OrderFilled", "client_order_id": "'
    assert [type(e).__name__ for e in again.events()] == ["OrderSubmitted", "OrderAccepted", "OrderFilled"]
    assert path.read_bytes() == whole
    again.append(every_type()[3])
    again.close()
    third = JsonlEventLog(path)
    assert third.torn_line is None
    assert [type(e).__name__ for e in third.events()][-1] == "OrderAmended"


def test_a_last_line_cut_short_before_its_newline_reached_the_disk_is_also_a_torn_write(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = JsonlEventLog(path)
    for e in every_type()[:2]:
        log.append(e)
    log.close()
    whole = path.read_bytes()
    with path.open("ab") as f:
        f.write(b'{"event": "OrderFilled", "ts_ns": 17\n')
    again = JsonlEventLog(path)
    assert again.torn_line == '{"event": "OrderFilled", "ts_ns": 17'
    assert len(again.events()) == 2
    assert path.read_bytes() == whole


def test_a_bad_line_before_the_last_is_damage_not_a_torn_write(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = JsonlEventLog(path)
    for e in every_type()[:3]:
        log.append(e)
    log.close()
    lines = path.read_bytes().split(b"\n")
    lines[1] = b'{"event": "OrderAccepted"'
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(StoreError, match=r"events.jsonl, line 2: expected an order event"):
        JsonlEventLog(path)


def test_replay_rebuilds_each_order_from_its_events() -> None:
    log = InMemoryEventLog()
    for e in every_type():
        log.append(e)
    orders = replay(log.events())
    assert list(orders) == [coid(0), coid(1), coid(3)]  # the denied one never left: no order to rebuild
    first = orders[coid(0)]
    assert (first.status, first.filled_units, first.average_price, first.quantity_units, first.limit_price) == (
        OrderStatus.CANCELLED,
        40.0,
        101.25,
        80.0,
        101.0,
    )
    assert (first.accepted_ns, first.closed_ns) == (T0 + 1, T0 + 4)
    assert orders[coid(1)].status is OrderStatus.REJECTED
    assert orders[coid(3)].status is OrderStatus.EXPIRED


def test_reading_a_log_being_written_takes_its_whole_lines_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = JsonlEventLog(path)
    for e in every_type()[:3]:
        log.append(e)
    with path.open("ab") as f:
        f.write(b'{"event": "OrderFilled", "client_order_id": "')  # a line still being written
    before = path.read_bytes()
    got = read_event_file(path)
    assert [e.to_dict() for e in got] == [e.to_dict() for e in every_type()[:3]]
    assert path.read_bytes() == before  # read only: the writer's half line is left alone
    log.close()
    path.write_bytes(before.split(b"\n")[0] + b"\nnot json\n")
    with pytest.raises(DataError, match=r"events.jsonl, row 2: not an order event"):
        read_event_file(path)
