"""Registries of actors by key: rooms by conversation (one each), sessions by person (several).

An entry goes as soon as its actor ends, so a registry never grows past the actors alive.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, Generic, TypeVar

import trio

if TYPE_CHECKING:
    from duo.actors.runtime import ActorRef

K = TypeVar("K", bound=Hashable)
M = TypeVar("M")
R = TypeVar("R")


class Registry(Generic[K, M, R]):
    """At most one actor per key (rooms by conversation); an entry goes when its actor ends."""

    __slots__ = ("_refs", "_starting")

    def __init__(self) -> None:
        self._refs: dict[K, ActorRef[M, R]] = {}
        self._starting: dict[K, trio.Event] = {}

    def __len__(self) -> int:
        return len(self._refs)

    def get(self, key: K) -> ActorRef[M, R] | None:
        """The live actor for ``key``, if any."""
        ref = self._refs.get(key)
        return None if ref is None or ref.stopping else ref

    async def get_or_start(self, key: K, factory: Callable[[], Awaitable[ActorRef[M, R]]]) -> ActorRef[M, R]:
        """The actor for ``key``, started with ``factory()`` if there is none.

        Concurrent callers for one key wait for the one start (never two); an actor that
        is stopping is waited out and replaced. An error from ``factory`` reaches the
        caller that ran it; the others try again.
        """
        while True:
            ref = self._refs.get(key)
            if ref is not None:
                if not ref.stopping:
                    await trio.lowlevel.checkpoint()
                    return ref
                await ref.wait_stopped()
                continue
            starting = self._starting.get(key)
            if starting is not None:
                await starting.wait()
                continue
            self._starting[key] = starting = trio.Event()
            try:
                ref = await factory()
            finally:
                del self._starting[key]
                starting.set()
            self._refs[key] = ref
            ref.watch(self, lambda ended, _reason: self._forget(key, ended))
            return ref

    def _forget(self, key: K, ref: ActorRef[M, R]) -> None:
        if self._refs.get(key) is ref:
            del self._refs[key]


class MultiRegistry(Generic[K, M, R]):
    """Several actors per key (sessions by person); an entry goes when its actor ends."""

    __slots__ = ("_refs",)

    def __init__(self) -> None:
        self._refs: dict[K, list[ActorRef[M, R]]] = {}

    def __len__(self) -> int:
        """Keys with at least one actor."""
        return len(self._refs)

    def add(self, key: K, ref: ActorRef[M, R]) -> None:
        """Register ``ref`` under ``key`` until it ends."""
        if ref.reason is not None:
            return
        self._refs.setdefault(key, []).append(ref)
        ref.watch(self, lambda ended, _reason: self._forget(key, ended))

    def lookup(self, key: K) -> list[ActorRef[M, R]]:
        """The live actors registered under ``key`` (a copy)."""
        return [ref for ref in self._refs.get(key, ()) if not ref.stopping]

    def _forget(self, key: K, ref: ActorRef[M, R]) -> None:
        refs = self._refs.get(key)
        if refs is not None and ref in refs:
            refs.remove(ref)
            if not refs:
                del self._refs[key]
