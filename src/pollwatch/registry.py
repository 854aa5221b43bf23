"""Named, ordered registries: how later parts plug pipeline steps, report sections and
evaluation blocks into the stages that run them.

A registry knows the modules that fill it; they are imported on first use, so a stage pulls in
the (possibly heavy) parts that register into it only when it runs. To plug a new part in, add
its module to the registry's `modules` and call `register` at that module's import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


@dataclass
class Registry(Generic[T]):
    """Items registered under unique names, listed by `order` then name."""

    kind: str
    modules: tuple[str, ...] = ()
    _items: dict[str, tuple[int, T]] = field(default_factory=dict, init=False, repr=False)
    _loaded: bool = field(default=False, init=False, repr=False)

    def register(self, name: str, item: T, *, order: int = 100) -> T:
        """Add `item` under `name`; a name can be registered once."""
        if not name:
            raise ValueError(f"{self.kind}: name must not be empty")
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = (order, item)
        return item

    def registering(self, name: str, *, order: int = 100) -> Callable[[T], T]:
        """Decorator form of `register`."""

        def deco(item: T) -> T:
            return self.register(name, item, order=order)

        return deco

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for module in self.modules:
                importlib.import_module(module)

    def get(self, name: str) -> T:
        """The item registered as `name`; a ValueError lists the known names otherwise."""
        self._load()
        try:
            return self._items[name][1]
        except KeyError:
            raise ValueError(f"unknown {self.kind} {name!r}; known: {self.names()}") from None

    def names(self) -> list[str]:
        """Registered names in running order."""
        self._load()
        return [n for n, _ in sorted(self._items.items(), key=lambda kv: (kv[1][0], kv[0]))]

    def items(self) -> Iterator[tuple[str, T]]:
        """(name, item) pairs in running order."""
        for name in self.names():
            yield name, self._items[name][1]
