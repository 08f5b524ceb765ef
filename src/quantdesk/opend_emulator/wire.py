"""OpenD's wire format: the 44-byte packet header, the SHA-1 of the body, and the SDK's own protobuf modules.

A packet is a header (magic ``FT``, proto id, body format, protocol version, serial number, body length, SHA-1 of
the plaintext body, 8 reserved bytes; little-endian, packed) and a protobuf body (``docs/moomoo.md`` and
``../shared/reference/moomoo_opend_protocol.md`` section 2). The message classes are the ``*_pb2`` modules that the
pinned ``moomoo-api`` package ships in ``moomoo/common/pb``: they are loaded from that folder without importing
``moomoo`` itself (whose import writes logs under ``$HOME``), so the emulator's schema is always the SDK's. Written
by hand because no library speaks this framing; only the header is ours, every body is the SDK's protobuf.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import struct
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from quantdesk.core.errors import ConfigError

HEADER = struct.Struct("<2sIBBII20s8s")
HEADER_LEN = HEADER.size  # 44
MAGIC = b"FT"
FMT_PROTOBUF = 0

# the proto ids the emulator speaks, and the SDK's module of each (``<name>_pb2``)
PROTO_MODULES: dict[int, str] = {
    1001: "InitConnect",
    1002: "GetGlobalState",
    1003: "Notify",
    1004: "KeepAlive",
    2001: "Trd_GetAccList",
    2005: "Trd_UnlockTrade",
    2008: "Trd_SubAccPush",
    2101: "Trd_GetFunds",
    2102: "Trd_GetPositionList",
    2201: "Trd_GetOrderList",
    2202: "Trd_PlaceOrder",
    2205: "Trd_ModifyOrder",
    2208: "Trd_UpdateOrder",
    2211: "Trd_GetOrderFillList",
    2218: "Trd_UpdateOrderFill",
    3001: "Qot_Sub",
    3004: "Qot_GetBasicQot",
    3005: "Qot_UpdateBasicQot",
    3006: "Qot_GetKL",
    3007: "Qot_UpdateKL",
    3010: "Qot_GetTicker",
    3011: "Qot_UpdateTicker",
    3012: "Qot_GetOrderBook",
    3013: "Qot_UpdateOrderBook",
    3103: "Qot_RequestHistoryKL",
    3202: "Qot_GetStaticInfo",
    3203: "Qot_GetSecuritySnapshot",
    3227: "Qot_GetFinancialsStatements",
    3401: "Qot_GetEarningsCalendar",
    3409: "Qot_GetEconomicCalendar",
}


@cache
def pb_folder() -> Path:
    """The ``moomoo/common/pb`` folder of the installed SDK (found without importing the package)."""
    spec = importlib.util.find_spec("moomoo")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("opend emulator: the moomoo-api package is not installed (pip install moomoo-api)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "common" / "pb"
    if not (folder / "InitConnect_pb2.py").exists():
        raise ConfigError(f"opend emulator: no protobuf modules in {folder}; is moomoo-api installed whole?")
    return folder


@cache
def pb(name: str) -> ModuleType:
    """The SDK's generated module ``<name>_pb2`` (the generated modules import each other by bare name, so the
    folder is put on ``sys.path``, as the SDK itself does)."""
    folder = str(pb_folder())
    if folder not in sys.path:
        sys.path.append(folder)
    return importlib.import_module(f"{name}_pb2")


def module_of(proto_id: int) -> ModuleType:
    name = PROTO_MODULES.get(proto_id)
    if name is None:
        raise KeyError(proto_id)
    return pb(name)


@dataclass(frozen=True, slots=True)
class Header:
    proto_id: int
    fmt: int
    serial_no: int
    body_len: int
    sha1: bytes


def pack(proto_id: int, serial_no: int, body: bytes, fmt: int = FMT_PROTOBUF) -> bytes:
    """A whole packet: the header for ``body`` (its SHA-1 and length) and the body."""
    return HEADER.pack(MAGIC, proto_id, fmt, 0, serial_no, len(body), hashlib.sha1(body).digest(), b"\0" * 8) + body


def unpack_header(data: bytes) -> Header:
    magic, proto_id, fmt, _ver, serial_no, body_len, sha1, _reserved = HEADER.unpack(data[:HEADER_LEN])
    if magic != MAGIC:
        raise ValueError(f"not an OpenD packet: magic {magic!r}")
    return Header(proto_id, fmt, serial_no, body_len, sha1)


def body_ok(header: Header, body: bytes) -> bool:
    return hashlib.sha1(body).digest() == header.sha1


def response(proto_id: int, s2c: Any | None = None, *, ret_type: int = 0, ret_msg: str = "") -> bytes:
    """The serialized ``Response`` of ``proto_id`` (strict: a reply missing a required field raises here, the
    schema guard); for an id the emulator does not speak, a generic error reply that is valid on the wire for every
    proto (field 1 ``retType``, field 2 ``retMsg`` are common to all)."""
    mod = module_of(proto_id) if proto_id in PROTO_MODULES else pb("KeepAlive")
    msg = mod.Response()
    msg.retType = ret_type
    if ret_msg:
        msg.retMsg = ret_msg
    if s2c is not None:
        msg.s2c.CopyFrom(s2c)
    return bytes(msg.SerializeToString())
