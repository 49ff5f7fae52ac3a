"""The committed stubs in solver/_proto describe exactly the .proto files under proto/.

Compares file descriptors rather than generated text, so any grpcio-tools version can run it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[1]
PROTO_DIR = ROOT / "proto"
STUB_DIR = ROOT / "solver" / "_proto"
STUB_PACKAGE = "solver._proto"
FIX = "regenerate the stubs with `python scripts/gen_proto.py` and commit them"

PROTOS = sorted(p.relative_to(PROTO_DIR).as_posix() for p in PROTO_DIR.rglob("*.proto"))


def _module_name(proto: str) -> str:
    """The stub module protoc's Python generator makes of a proto file, e.g. a/b-c.proto -> a.b_c_pb2."""
    return f"{STUB_PACKAGE}.{proto.removesuffix('.proto').replace('-', '_').replace('/', '.')}_pb2"


def _default_json_name(name: str) -> str:
    """protoc's lowerCamelCase of a field name (ToJsonName in descriptor.cc)."""
    out: list[str] = []
    capitalize = False
    for ch in name:
        if ch == "_":
            capitalize = True
        elif capitalize:
            out.append(ch.upper())
            capitalize = False
        else:
            out.append(ch)
    return "".join(out)


def _clear_default_json_names(messages: Iterable[descriptor_pb2.DescriptorProto]) -> None:
    for message in messages:
        for field in (*message.field, *message.extension):
            if field.json_name == _default_json_name(field.name):
                field.ClearField("json_name")
        _clear_default_json_names(message.nested_type)


def _normalized(file: descriptor_pb2.FileDescriptorProto) -> bytes:
    """Deterministic bytes of a file descriptor; protoc's descriptor sets spell out every derived
    json_name while the Python generator keeps only explicit ones, so derived names are dropped."""
    file = descriptor_pb2.FileDescriptorProto.FromString(file.SerializeToString())
    _clear_default_json_names(file.message_type)
    for field in file.extension:
        if field.json_name == _default_json_name(field.name):
            field.ClearField("json_name")
    return file.SerializeToString(deterministic=True)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    """The file descriptors protoc makes of proto/ now, by proto file name."""
    out = tmp_path_factory.mktemp("descriptors") / "network.pb"
    well_known = Path(str(resources.files("grpc_tools") / "_proto"))
    argv = [
        "grpc_tools.protoc",
        f"-I{PROTO_DIR}",
        f"-I{well_known}",
        f"--descriptor_set_out={out}",
        *(str(PROTO_DIR / p) for p in PROTOS),
    ]
    assert protoc.main(argv) == 0, "protoc could not compile proto/"
    descriptor_set = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    return {f.name: f for f in descriptor_set.file}


def test_proto_files_exist() -> None:
    assert PROTOS, f"no .proto files under {PROTO_DIR}"


@pytest.mark.parametrize("proto", PROTOS)
def test_every_proto_has_committed_stubs(proto: str) -> None:
    module = _module_name(proto)
    path = STUB_DIR / (module.removeprefix(STUB_PACKAGE + ".").replace(".", "/") + ".py")
    assert path.is_file(), f"{proto} has no stub {path.relative_to(ROOT)}; {FIX}"


@pytest.mark.parametrize("proto", PROTOS)
def test_committed_stub_matches_proto(proto: str, compiled: dict[str, descriptor_pb2.FileDescriptorProto]) -> None:
    try:
        module = importlib.import_module(_module_name(proto))
    except ModuleNotFoundError:
        pytest.fail(f"{proto} has no importable stub {_module_name(proto)}; {FIX}")
    committed = descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
    assert committed.name == proto
    assert _normalized(committed) == _normalized(compiled[proto]), f"stubs of {proto} are out of date; {FIX}"


def test_no_stub_without_proto() -> None:
    expected = {_module_name(p) for p in PROTOS}
    committed = {
        ".".join((STUB_PACKAGE, *path.relative_to(STUB_DIR).with_suffix("").parts))
        for path in STUB_DIR.rglob("*_pb2.py")
    }
    assert committed <= expected, f"stubs without a proto file: {sorted(committed - expected)}; {FIX}"
