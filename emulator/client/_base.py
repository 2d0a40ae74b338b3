"""One resource class for both faces: each method is written once, as a description.

A resource method returns what to send (a ``Request``, a ``Listing`` or a ``StreamRequest``)
and is decorated with ``operation``, ``listing`` or ``streaming``. The decorator makes it a
descriptor: on a resource bound to a ``SyncExecutor`` (``SimplyQ``) the method returns the
result; on one bound to an ``AsyncExecutor`` (``AsyncSimplyQ``) it returns an awaitable of it.
Both faces run the same bound function; only the executor's entry point differs, and the
``__get__`` overloads tell type checkers which face they are looking at.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, Generic, Literal, ParamSpec, TypeVar, overload

from emulator.client._executors import AsyncExecutor, BaseExecutor, SyncExecutor
from emulator.client._requests import Listing, Request
from emulator.client.stream import StreamRequest

if TYPE_CHECKING:
    from typing_extensions import Self

    from emulator.client.pages import AsyncPage, Page
    from emulator.client.stream import AsyncChangeStream, ChangeStream

P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S")  # what the sync face returns
A = TypeVar("A")  # what the async face returns
X = TypeVar("X", bound=BaseExecutor)

_Entry = Literal["call", "page", "stream"]


class Resource(Generic[X]):
    """A group of API methods (``client.events``), bound to one face's executor."""

    def __init__(self, executor: X) -> None:
        self._executor = executor


class ResourceMethod(Generic[P, S, A]):
    """A method described once; ``S`` on the sync face, ``A`` on the async face."""

    def __init__(self, describe: Callable[..., Any], entry: _Entry) -> None:
        self._describe = describe
        self._entry = entry
        self.__doc__ = describe.__doc__
        self.__name__ = describe.__name__
        self.__qualname__ = describe.__qualname__
        # What help() shows: the caller's arguments (no self, no description return type).
        signature = inspect.signature(describe)
        self.__signature__ = signature.replace(
            parameters=list(signature.parameters.values())[1:],
            return_annotation=inspect.Signature.empty,
        )

    @overload
    def __get__(self, resource: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, resource: Resource[SyncExecutor], owner: type[Any]) -> Callable[P, S]: ...

    @overload
    def __get__(self, resource: Resource[AsyncExecutor], owner: type[Any]) -> Callable[P, A]: ...

    def __get__(self, resource: Resource[Any] | None, owner: type[Any]) -> Any:
        if resource is None:
            return self
        describe = self._describe
        entry = getattr(resource._executor, self._entry)

        def bound(*args: Any, **kwargs: Any) -> Any:
            # The description is made inside the entry point, so on the async face a bad
            # argument raises when the call is awaited, as with any coroutine.
            return entry(lambda: describe(resource, *args, **kwargs))

        bound.__doc__ = self.__doc__
        bound.__name__ = self.__name__
        bound.__qualname__ = self.__qualname__
        bound.__signature__ = self.__signature__  # type: ignore[attr-defined]
        return bound

    def __repr__(self) -> str:
        return f"<resource method {self.__qualname__}>"


def operation(
    describe: Callable[Concatenate[Any, P], Request[T]],
) -> ResourceMethod[P, T, Coroutine[Any, Any, T]]:
    """A method that sends one request: returns its result (awaitable on the async face)."""
    return ResourceMethod(describe, "call")


def listing(
    describe: Callable[Concatenate[Any, P], Listing[T]],
) -> ResourceMethod[P, Page[T], Coroutine[Any, Any, AsyncPage[T]]]:
    """A list method: returns the first ``Page`` (an awaitable ``AsyncPage`` on the async
    face); iterating a page follows every next one."""
    return ResourceMethod(describe, "page")


def streaming(
    describe: Callable[Concatenate[Any, P], StreamRequest],
) -> ResourceMethod[P, ChangeStream, AsyncChangeStream]:
    """A method that opens a change stream: a ``ChangeStream`` or ``AsyncChangeStream``."""
    return ResourceMethod(describe, "stream")
