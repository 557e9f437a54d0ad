"""TensorFlow's exception classes (`tf.errors`), and turning XLA's status errors into them.

Every class is also a Python built-in a user may already catch: `InvalidArgumentError` is a
`ValueError`, `OutOfRangeError` an `IndexError`, `UnimplementedError` a `NotImplementedError`,
the rest `RuntimeError`s. `error_code` values are TF's (= absl status codes).
"""
from __future__ import annotations

import re
from typing import Any

OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
ABORTED = 10
OUT_OF_RANGE = 11
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
DATA_LOSS = 15
UNAUTHENTICATED = 16


class OpError(Exception):
    """An operation failed (tf.errors.OpError): `message`, `error_code`, `op`, `node_def`."""

    error_code = UNKNOWN

    def __init__(self, node_def: Any = None, op: Any = None, message: str = "",
                 error_code: int | None = None, *args: Any):
        super().__init__(message)
        self._node_def = node_def
        self._op = op
        self._message = message
        if error_code is not None:
            self.error_code = error_code

    @property
    def message(self) -> str:
        return self._message

    @property
    def op(self) -> Any:
        return self._op

    @property
    def node_def(self) -> Any:
        return self._node_def

    def __str__(self) -> str:
        return self._message

    def __reduce__(self):  # picklable across processes (multiprocessing), like TF's
        return (type(self), (self._node_def, self._op, self._message, self.error_code))


def _error(name: str, code: int, builtin: type, doc: str) -> type[OpError]:
    return type(name, (OpError, builtin), {"error_code": code, "__doc__": doc,
                                           "__module__": "tfx_core.errors"})


CancelledError = _error("CancelledError", CANCELLED, RuntimeError, "An operation was cancelled.")
UnknownError = _error("UnknownError", UNKNOWN, RuntimeError, "An unknown error.")
InvalidArgumentError = _error("InvalidArgumentError", INVALID_ARGUMENT, ValueError,
                              "An operation received an invalid argument.")
DeadlineExceededError = _error("DeadlineExceededError", DEADLINE_EXCEEDED, RuntimeError,
                               "A deadline expired before the operation could complete.")
NotFoundError = _error("NotFoundError", NOT_FOUND, RuntimeError,
                       "A requested entity (a file, a device) was not found.")
AlreadyExistsError = _error("AlreadyExistsError", ALREADY_EXISTS, RuntimeError,
                            "An entity we tried to create already exists.")
PermissionDeniedError = _error("PermissionDeniedError", PERMISSION_DENIED, RuntimeError,
                               "The caller may not run this operation.")
ResourceExhaustedError = _error("ResourceExhaustedError", RESOURCE_EXHAUSTED, RuntimeError,
                                "Some resource (memory, a size limit) has been exhausted.")
FailedPreconditionError = _error("FailedPreconditionError", FAILED_PRECONDITION, RuntimeError,
                                 "The system is not in a state to run the operation.")
AbortedError = _error("AbortedError", ABORTED, RuntimeError, "The operation was aborted.")
OutOfRangeError = _error("OutOfRangeError", OUT_OF_RANGE, IndexError,
                         "An operation iterated or indexed past the valid range.")
UnimplementedError = _error("UnimplementedError", UNIMPLEMENTED, NotImplementedError,
                            "The operation is not implemented or not supported.")
InternalError = _error("InternalError", INTERNAL, RuntimeError,
                       "The system hit an internal error (a broken invariant).")
UnavailableError = _error("UnavailableError", UNAVAILABLE, RuntimeError,
                          "The runtime is currently unavailable.")
DataLossError = _error("DataLossError", DATA_LOSS, RuntimeError,
                       "Unrecoverable data loss or corruption.")
UnauthenticatedError = _error("UnauthenticatedError", UNAUTHENTICATED, RuntimeError,
                              "The request has no valid authentication credentials.")


# An invalid argument that is also the Python built-in the op raised: TF raises
# InvalidArgumentError for bad shapes, dtypes and indices eagerly, and ValueError / TypeError /
# IndexError while building graphs; these are caught by every one of those names.
InvalidArgumentTypeError = type("InvalidArgumentError", (InvalidArgumentError, TypeError),
                                {"__doc__": InvalidArgumentError.__doc__,
                                 "__module__": "tfx_core.errors"})
InvalidArgumentIndexError = type("InvalidArgumentError", (InvalidArgumentError, IndexError),
                                 {"__doc__": InvalidArgumentError.__doc__,
                                  "__module__": "tfx_core.errors"})


def invalid_argument(builtin: type) -> type[OpError]:
    """InvalidArgumentError that is also `builtin` (TypeError, IndexError or ValueError)."""
    return {TypeError: InvalidArgumentTypeError, IndexError: InvalidArgumentIndexError}.get(
        builtin, InvalidArgumentError)

_BY_CODE: dict[int, type[OpError]] = {c.error_code: c for c in (
    CancelledError, UnknownError, InvalidArgumentError, DeadlineExceededError, NotFoundError,
    AlreadyExistsError, PermissionDeniedError, ResourceExhaustedError, FailedPreconditionError,
    AbortedError, OutOfRangeError, UnimplementedError, InternalError, UnavailableError,
    DataLossError, UnauthenticatedError)}
_BY_STATUS = {name: globals()[name] for name in (
    "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED")}
_STATUS = re.compile(r"\b(" + "|".join(_BY_STATUS) + r"):")
# XLA repeats this prefix once per layer a failed allocation passed through
_DISPATCH_NOISE = re.compile(r"(?:Error dispatching computation: )+")
# ... and reports a failed allocation at dispatch as INTERNAL: it is memory all the same
_OUT_OF_MEMORY = re.compile(r"\bOut of memory\b|\bRESOURCE_EXHAUSTED\b")


def exception_type_from_error_code(code: int) -> type[OpError]:
    """The OpError subclass for a TF/absl status code (tf.errors's function of that name)."""
    return _BY_CODE.get(code, UnknownError)


def error_code_from_exception_type(cls: type) -> int:
    return getattr(cls, "error_code", UNKNOWN)


def from_status(exc: BaseException, context: str) -> OpError:
    """An XLA runtime error (`JaxRuntimeError: RESOURCE_EXHAUSTED: ...`) as the matching
    OpError subclass, its message prefixed with `context` ("XLA failed running 'f'")."""
    text = _DISPATCH_NOISE.sub("", str(exc)).strip()
    m = _STATUS.search(text)
    code = _BY_STATUS[m.group(1)] if m else UNKNOWN
    if m and m.start() == 0:  # the status name is in the class now; keep the message
        text = text[m.end():].strip()
    if _OUT_OF_MEMORY.search(text):
        code = RESOURCE_EXHAUSTED
    message = f"{context}: {text or type(exc).__name__}"
    err = exception_type_from_error_code(code)(None, None, message)
    err.__cause__ = exc
    return err
