"""The two packages keep to their jobs: the domain (`components/` and the modules beside it) works on the CDK's
stock path and names no private attribute of another library; `fastpath/` is the only plumbing, installed only
when the CDK internals it relies on are what it expects."""

from __future__ import annotations

import ast
import logging
from pathlib import Path
from typing import Iterator

import pytest
from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
from airbyte_cdk.sources.types import StreamSlice

from source_8x8_cdr import fastpath
from source_8x8_cdr.fastpath import contract
from source_8x8_cdr.fastpath.pages import RecordPage
from source_8x8_cdr.source import SourceEightByEightCdr

PACKAGE = Path(__file__).resolve().parents[1] / "source_8x8_cdr"
DOMAIN_MODULES = sorted(path for path in PACKAGE.rglob("*.py") if "fastpath" not in path.relative_to(PACKAGE).parts)
CONFIG = {
    "start_date": "2026-01-01T00:00:00Z",
    "contact_center": {"api_key": "architecture-test-key", "base_url": "https://cc.example.com"},
}


def _own_private_names(tree: ast.AST) -> set:
    """Private names a module defines itself: attributes it assigns on `self`, its functions and classes."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _foreign_private_uses(path: Path, root: Path = PACKAGE) -> Iterator[str]:
    """Private names a domain module uses that no domain module defines (its own, or inherited from ours)."""
    tree = ast.parse(path.read_text())
    own = _own_private_names(tree) | (_DOMAIN_PRIVATE_NAMES if root == PACKAGE else set())
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if node.attr not in own:
                yield f"{path.relative_to(root)}:{node.lineno} .{node.attr}"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] != "source_8x8_cdr":
            yield from (f"{path.relative_to(root)}:{node.lineno} import {alias.name}" for alias in node.names if alias.name.startswith("_"))


# Public names of the standard library that begin with an underscore.
_PUBLIC_UNDERSCORE_NAMES = {"_exit", "_asdict", "_replace", "_fields"}
_DOMAIN_PRIVATE_NAMES = _PUBLIC_UNDERSCORE_NAMES | set().union(*(_own_private_names(ast.parse(path.read_text())) for path in DOMAIN_MODULES))


class TestPackages:
    def test_given_the_domain_modules_when_scanned_then_none_names_a_private_attribute_of_another_library(self) -> None:
        found = [use for path in DOMAIN_MODULES for use in _foreign_private_uses(path)]

        assert not found, "private names of other libraries belong in source_8x8_cdr/fastpath/:\n" + "\n".join(found)

    def test_given_a_domain_module_using_a_cdk_private_attribute_when_scanned_then_it_is_found(self, tmp_path: Path) -> None:
        module = tmp_path / "probe.py"
        module.write_text("class R(HttpRequester):\n    def f(self):\n        self._own = 1\n        return self._http_client._session, self._own\n")

        assert sorted(use.split(" ")[1] for use in _foreign_private_uses(module, root=tmp_path)) == ["._http_client", "._session"]

    def test_given_the_components_then_none_imports_the_fastpath(self) -> None:
        importers = [
            path.relative_to(PACKAGE).as_posix()
            for path in (PACKAGE / "components").glob("*.py")
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom) and "fastpath" in (node.module or "")
        ]

        assert importers == []


class TestInstall:
    def test_given_this_cdk_when_the_contract_is_checked_then_nothing_is_missing(self) -> None:
        assert contract.missing_internals() == []

    def test_given_the_stock_path_switch_when_a_source_is_built_then_it_reads_on_the_stock_path(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(fastpath.STOCK_PATH_VARIABLE, "1")

        source = SourceEightByEightCdr(config=CONFIG)

        assert source.reads_by_page is False
        assert type(source._concurrent_source)._handle_item is ConcurrentSource._handle_item
        assert "_handle_item" not in vars(source._concurrent_source)

    def test_given_a_missing_internal_when_a_source_is_built_then_one_line_is_logged_and_the_stock_path_is_used(
        self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        monkeypatch.delenv(fastpath.STOCK_PATH_VARIABLE, raising=False)
        monkeypatch.setattr(contract, "CONTRACT", contract.CONTRACT + (("SimpleRetriever._read_pages_renamed", lambda: False),))

        with caplog.at_level(logging.WARNING, logger="airbyte"):
            source = SourceEightByEightCdr(config=CONFIG)

        assert source.reads_by_page is False and "_handle_item" not in vars(source._concurrent_source)
        warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
        assert len(warnings) == 1 and "stock path" in warnings[0] and "SimpleRetriever._read_pages_renamed" in warnings[0]

    def test_given_a_check_that_raises_when_the_contract_is_checked_then_it_counts_as_missing(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def gone() -> bool:
            raise AttributeError("moved")

        monkeypatch.setattr(contract, "CONTRACT", (("Something._moved", gone),))

        assert contract.missing_internals() == ["Something._moved"]

    def test_given_the_fast_path_when_a_source_is_built_then_it_reads_by_page(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(fastpath.STOCK_PATH_VARIABLE, raising=False)

        source = SourceEightByEightCdr(config=CONFIG)

        assert source.reads_by_page is True and "_handle_item" in vars(source._concurrent_source)


class TestRecordPage:
    def test_given_a_page_that_reaches_the_cdks_own_record_handling_when_handled_then_it_fails_loudly(self) -> None:
        page = RecordPage.of_records([{"uuid": "a"}], {"uuid": "a"}, "contact_center_cdrs", StreamSlice(partition={}, cursor_slice={}))

        with pytest.raises(ValueError, match="Unknown queue item type"):
            list(ConcurrentSource._handle_item(None, page, concurrent_stream_processor=None))  # type: ignore[arg-type]
