"""`solver.convert.wire`: a plan's tables encoded column-wise give the message the row-by-row path
builds, byte for byte once serialized, on real plans and on rows made to hit the encoding's edges
(multi-byte UTF-8, lengths past one varint byte, negative and extreme int32, NaN, -0.0,
infinities); what it does not cover falls back to the row-by-row path."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from models.plan import PLAN_TABLES, Plan, Table
from solver._proto.concerto.v1 import plan_pb2
from solver.convert import plan as convert_plan
from solver.convert import plan_to_proto
from solver.convert.wire import encode_rows
from tests.test_convert_plan import plans  # noqa: F401  (the fixture)

FIELDS = plan_pb2.PlanResult.DESCRIPTOR.fields_by_name


def _encoded_column_wise(plan: Plan) -> bool:
    """Whether every table of `plan` takes the column-wise path (so a test compares two paths)."""
    return all(
        encode_rows(FIELDS[layout.name], layout.of(plan).columns, len(layout.of(plan))) is not None
        for layout in PLAN_TABLES
    )


def _row_by_row(plan: Plan, monkeypatch: pytest.MonkeyPatch) -> bytes:
    with monkeypatch.context() as patch:
        patch.setattr(convert_plan, "encode_rows", lambda *_: None)
        return plan_to_proto(plan).SerializeToString(deterministic=True)


def test_one_row_is_the_bytes_worked_out_by_hand() -> None:
    """Overtime {node "P", period 2, hours 1.5} as PlanResult field 12: the row is
    0a 01 'P' (field 1, length-delimited, 1 byte), 10 02 (field 2, varint 2), 19 and 1.5 as a
    little-endian double (00 00 00 00 00 00 f8 3f): 14 bytes; the record is 62 (field 12,
    length-delimited), 0e (14), then the row."""
    columns = {"node": np.array(["P"]), "period": np.array([2]), "hours": np.array([1.5])}
    row = bytes([0x0A, 0x01, ord("P"), 0x10, 0x02, 0x19, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F])
    assert encode_rows(FIELDS["overtime"], columns, 1) == bytes([0x62, len(row)]) + row


def test_real_plans_encode_as_the_row_by_row_path(
    plans: dict[str, Plan],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, plan in plans.items():
        assert _encoded_column_wise(plan), name
        assert plan_to_proto(plan).SerializeToString(deterministic=True) == _row_by_row(plan, monkeypatch), name


def _edge_tables(rng: np.random.Generator, n: int) -> dict[str, Table]:
    ids = np.array(["", "P", "é", "日本の倉庫", "🚚-7", "x" * 130, "a b", "Z"])
    periods = np.array([0, 1, 127, 128, 300, 2**31 - 1, -1, -(2**31)], dtype=np.int64)
    amounts = np.array([0.0, -0.0, 1.5, -2.25, 1e-300, 1e300, np.inf, -np.inf, np.nan])
    tables = {}
    for layout in PLAN_TABLES:
        columns = {}
        for name, dtype in layout.columns:
            pool = ids if dtype is np.str_ else periods if dtype is np.int64 else amounts
            columns[name] = rng.choice(pool, n).astype(dtype)
        tables[layout.name] = Table(columns)
    return tables


@pytest.mark.parametrize("seed", range(10))
def test_edge_values_encode_as_the_row_by_row_path(
    plans: dict[str, Plan],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
) -> None:
    """Tables of 0-60 rows drawn from edge values: the same serialized message either way, and the
    tables read back (NaN where NaN was written)."""
    rng = np.random.default_rng(seed)
    plan = dataclasses.replace(plans["short outage within authority"], **_edge_tables(rng, int(rng.integers(0, 61))))
    assert _encoded_column_wise(plan)
    encoded = plan_to_proto(plan)
    assert encoded.SerializeToString(deterministic=True) == _row_by_row(plan, monkeypatch)
    back = convert_plan.plan_from_proto(encoded)
    for layout in PLAN_TABLES:
        for name, _ in layout.columns:
            want, got = layout.of(plan).columns[name], layout.of(back).columns[name]
            if want.dtype.kind == "f":
                np.testing.assert_array_equal(got, want)  # NaN equals NaN here
            else:
                assert got.tolist() == want.tolist()


def test_a_nul_inside_a_string_is_carried() -> None:
    """numpy keeps a NUL inside a string (it drops trailing ones only), and so does the encoding."""
    columns = {"node": np.array(["a\x00b"]), "period": np.array([0]), "hours": np.array([1.0])}
    encoded = encode_rows(FIELDS["overtime"], columns, 1)
    assert encoded is not None
    assert plan_pb2.PlanResult.FromString(encoded).overtime[0].node == "a\x00b"


def test_what_is_not_covered_falls_back() -> None:
    """An int32 out of range is left to the row-by-row path (None), which rejects it as protobuf
    does; no rows encode to nothing."""
    field = FIELDS["overtime"]
    too_big = {"node": np.array(["a"]), "period": np.array([2**31]), "hours": np.array([1.0])}
    assert encode_rows(field, too_big, 1) is None
    message = plan_pb2.PlanResult()
    with pytest.raises(ValueError):
        message.overtime.add(node="a", period=2**31, hours=1.0)
    assert encode_rows(field, too_big, 0) == b""
