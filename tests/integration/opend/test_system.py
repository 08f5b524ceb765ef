"""The unmodified SDK connects to the emulator: InitConnect, KeepAlive, GetGlobalState, and an id the emulator
does not speak answered at once with an error (not after the SDK's 12 s timeout)."""

from __future__ import annotations

import time
from types import ModuleType

from quantdesk.opend_emulator import wire
from quantdesk.opend_emulator.server import Emulator


def test_the_sdk_connects_and_reads_the_global_state(sdk: ModuleType, emulator: Emulator) -> None:
    quote = sdk.OpenQuoteContext(host="127.0.0.1", port=emulator.port)
    try:
        ret, state = quote.get_global_state()
        assert ret == sdk.RET_OK
        assert state["market_us"] == "AFTERNOON" and state["program_status_type"] == "READY"
        assert state["qot_logined"] and state["trd_logined"] and state["server_ver"] == "1011"
        t0 = time.monotonic()
        ret, msg = quote.get_plate_list(sdk.Market.US, sdk.Plate.ALL)
        assert (ret, msg) == (sdk.RET_ERROR, "proto 3204 not emulated") and time.monotonic() - t0 < 2.0
    finally:
        quote.close()
    assert emulator.requests[:2] == [1001, 1002]


def test_a_packet_is_the_44_byte_header_and_the_body_with_its_sha1() -> None:
    body = bytes.fromhex("0a0608b18d95d806")  # the SDK's KeepAlive request, c2s.time
    packet = wire.pack(1004, 7890, body)
    assert len(packet) == 44 + len(body) and packet[:2] == b"FT"
    header = wire.unpack_header(packet)
    assert (header.proto_id, header.serial_no, header.body_len) == (1004, 7890, len(body))
    assert wire.body_ok(header, packet[44:]) and not wire.body_ok(header, body[:-1] + b"\0")
    request = wire.pb("KeepAlive").Request()
    request.ParseFromString(body)
    assert request.c2s.time == 1795507889


def test_a_dropped_connection_is_made_again_by_the_sdk(sdk: ModuleType, emulator: Emulator) -> None:
    quote = sdk.OpenQuoteContext(host="127.0.0.1", port=emulator.port)
    try:
        assert emulator.drop_connections() == 1
        deadline = time.monotonic() + 20.0
        while time.monotonic() < deadline and emulator.requests.count(1001) < 2:
            time.sleep(0.2)
        assert emulator.requests.count(1001) == 2  # the SDK reconnects after about 6 s
        ret, _ = quote.get_global_state()
        assert ret == sdk.RET_OK
    finally:
        quote.close()
