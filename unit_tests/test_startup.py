"""`source_8x8_cdr/fastpath/startup.py`: the faster attribute docs give what `attributes_doc` gives, and are in place
for the connector's command."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import attributes_doc
import pytest
from airbyte_protocol_dataclasses.models import airbyte_protocol
from attributes_doc import _base

from source_8x8_cdr.fastpath.startup import _from_parsed_modules

ORIGINAL = getattr(attributes_doc.get_attributes_doc, "__wrapped__", attributes_doc.get_attributes_doc)
FASTER = _from_parsed_modules(ORIGINAL, _base.FStringFound)


@dataclasses.dataclass
class Documented:
    first: int = 0
    """The first field."""
    second: str = ""
    """The second field."""

    @dataclasses.dataclass
    class Nested:
        inner: int = 0
        """Inside."""


@dataclasses.dataclass
class Derived(Documented):
    second: str = ""
    """Said again, nearer."""
    third: bool = False


PROTOCOL_CLASSES = [value for value in vars(airbyte_protocol).values() if isinstance(value, type) and dataclasses.is_dataclass(value)]


@pytest.mark.parametrize("cls", PROTOCOL_CLASSES, ids=lambda cls: cls.__name__)
def test_given_a_protocol_dataclass_when_its_attribute_docs_are_read_then_they_equal_attributes_docs(cls: type) -> None:
    assert FASTER(cls) == ORIGINAL(cls)


@pytest.mark.parametrize("cls", [Documented, Documented.Nested, Derived], ids=lambda cls: cls.__qualname__)
def test_given_nested_and_derived_classes_when_read_then_the_same_docs_with_the_nearer_class_winning(cls: type) -> None:
    assert FASTER(cls) == ORIGINAL(cls)
    assert FASTER(Derived) == {"first": "The first field.", "second": "Said again, nearer."}


def test_given_a_class_not_found_in_its_file_when_read_then_the_original_function_answers() -> None:
    calls: list[type] = []
    made_at_runtime = type("MadeAtRuntime", (), {"__module__": __name__})

    def original(cls: type) -> dict:
        calls.append(cls)
        return {"from": "original"}

    assert _from_parsed_modules(original, None)(made_at_runtime) == {"from": "original"}
    assert calls == [made_at_runtime]


def test_given_the_connector_package_imported_first_when_the_cdk_is_imported_then_the_faster_function_is_used() -> None:
    probe = (
        "import source_8x8_cdr, airbyte_cdk.entrypoint, attributes_doc, serpyco_rs._utils as u;"
        "print(hasattr(attributes_doc.get_attributes_doc, '__wrapped__'), u.get_attributes_doc.__wrapped__ is attributes_doc.get_attributes_doc)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
