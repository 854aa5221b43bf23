"""The registry that pipeline steps, report sections and metric blocks plug into."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pollwatch.registry import Registry


def test_order_then_name() -> None:
    reg: Registry[int] = Registry("thing")
    reg.register("b", 2, order=5)
    reg.register("a", 1, order=5)
    reg.register("z", 0, order=1)
    assert reg.names() == ["z", "a", "b"]
    assert list(reg.items()) == [("z", 0), ("a", 1), ("b", 2)]


@pytest.mark.parametrize(
    ("name", "match"),
    [("a", "thing 'a' is already registered"), ("", "name must not be empty")],
)
def test_bad_registrations(name: str, match: str) -> None:
    reg: Registry[int] = Registry("thing")
    reg.register("a", 1)
    with pytest.raises(ValueError, match=match):
        reg.register(name, 2)


def test_unknown_name_lists_the_known() -> None:
    reg: Registry[int] = Registry("thing")
    reg.register("a", 1)
    with pytest.raises(ValueError, match=r"unknown thing 'b'; known: \['a'\]"):
        reg.get("b")


def test_modules_are_imported_on_first_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reg: Registry[str] = Registry("plugin", modules=("pw_test_plugin",))
    (tmp_path / "pw_test_plugin.py").write_text(
        "from test_registry import CURRENT\nCURRENT[0].register('late', 'hello')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    CURRENT[:] = [reg]
    assert "pw_test_plugin" not in sys.modules
    assert reg.get("late") == "hello"
    monkeypatch.delitem(sys.modules, "pw_test_plugin")


CURRENT: list[Registry[str]] = []
