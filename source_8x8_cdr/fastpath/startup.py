"""Start-up: `import airbyte_cdk` in 1.5 s instead of 2.2 s, with the same result.

Why: at import, the CDK builds serpyco serializers for the Airbyte protocol's dataclasses, and serpyco reads
each class's attribute docstrings with `attributes_doc.get_attributes_doc`. That calls `inspect.getsource`
for the class and each of its bases, and before Python 3.13 `inspect` finds a class by parsing its whole
module again each time: about 0.7 s of every command's start (spec, check, discover and read alike).
`read_attribute_docs_faster` makes the same function parse each module file once and read the same
docstrings from it; a class it cannot place in its file is left to the original function. It must run
before `airbyte_cdk` is imported, so `source_8x8_cdr/__init__.py` calls it, and it does nothing when
`attributes_doc` is not the one it knows.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
from typing import Any, Callable, Optional


def read_attribute_docs_faster() -> None:
    if sys.version_info >= (3, 13) or "serpyco_rs" in sys.modules:
        return  # inspect finds classes by line number from 3.13 on; serpyco, once imported, holds its own reference
    try:
        import attributes_doc
        from attributes_doc import _base
    except ImportError:
        return
    original = getattr(_base, "get_attributes_doc", None)
    if original is None or getattr(attributes_doc, "get_attributes_doc", None) is not original:
        return
    faster = _from_parsed_modules(original, getattr(_base, "FStringFound", None))
    _base.get_attributes_doc = attributes_doc.get_attributes_doc = faster


def _from_parsed_modules(original: Callable[[type], dict], fstring_found: Optional[type]) -> Callable[[type], dict]:
    def get_attributes_doc(cls: type) -> dict[str, str]:
        """What `attributes_doc.get_attributes_doc` returns: for `cls` and its bases, each attribute followed
        by a string literal, mapped to that string (the nearer class wins)."""
        docs: dict[str, str] = {}
        for parent in reversed(cls.mro()):
            if parent is object:
                continue
            try:
                filename = inspect.getsourcefile(parent)
            except TypeError:  # built in
                continue
            node = _classes_in(filename).get(parent.__qualname__) if filename else None
            if node is None:
                return original(cls)
            for statement, following in zip(node.body, node.body[1:]):
                if not isinstance(statement, (ast.Assign, ast.AnnAssign)) or not isinstance(following, ast.Expr):
                    continue
                value = following.value
                if isinstance(value, ast.JoinedStr) and fstring_found is not None:
                    raise fstring_found
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    targets = [statement.target] if isinstance(statement, ast.AnnAssign) else statement.targets
                    docs.update((target.id, value.value) for target in targets if isinstance(target, ast.Name))
        return docs

    get_attributes_doc.__wrapped__ = original  # type: ignore[attr-defined]
    return get_attributes_doc


@functools.lru_cache(maxsize=None)
def _classes_in(filename: str) -> dict[str, Any]:
    """The class definitions of a source file by qualified name (the first one of each name, as `inspect`)."""
    try:
        with open(filename, encoding="utf-8") as source:
            tree = ast.parse(source.read())
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return {}
    classes: dict[str, Any] = {}

    def visit(body: list, prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                name = prefix + node.name
                classes.setdefault(name, node)
                visit(node.body, name + ".")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(node.body, f"{prefix}{node.name}.<locals>.")

    visit(tree.body, "")
    return classes
