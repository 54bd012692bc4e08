"""The core's and the services' exceptions as HTTP answers with a sentence."""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from backend.core.training import CannotLearn, Diverged, StepOrderError
from backend.services.errors import (
    Busy,
    Conflict,
    Forbidden,
    LimitExceeded,
    NotFound,
    TooLarge,
    TooManyRequests,
)

STATUS = [
    (NotFound, 404),
    (Forbidden, 403),
    (StepOrderError, 409),
    (CannotLearn, 409),
    (Diverged, 409),  # the update was refused; the weights are those from before it
    (Conflict, 409),
    (TooLarge, 413),  # more work or a larger answer than one request may have
    (LimitExceeded, 422),
    (ValueError, 422),  # SpecError, TrainingError, NetworkError, DatasetError, FeatureError
    (TooManyRequests, 429),
    (Busy, 503),
]


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str | None = None


class Problem(BaseModel):
    """Every error answer: a sentence saying what was wrong and what is allowed (or, for a
    body of the wrong shape, pydantic's list of field errors)."""

    detail: str | list[FieldError]
    next_step: str | None = None  # a step out of order: the call that comes next
    retry_after: int | None = None  # 429, 503: seconds to wait (also the Retry-After header)


# Declared in the OpenAPI schema of the routes that can answer them, so that a client (and
# the schema-driven fuzzing in tests/reliability) knows every error's shape.
RESPONSES = {
    status: {"model": Problem, "description": description}
    for status, description in (
        (400, "A body that is not JSON text"),
        (401, "No token, or not a Bearer one, on a call that changes a network"),
        (403, "A token that does not own this network"),
        (404, "No network with this id"),
        (409, "Not now: the network is training, a step is out of order, or it diverged"),
        (413, "The body is larger than the limit, or the work or answer asked for is more "
              "than one request may have (the sentence says how much fits)"),
        (422, "A value, a shape or a combination that is not allowed"),
        (429, "This client has made as many networks as one may in an hour (Retry-After)"),
        (503, "No room now: memory, the run queue, the turns for heavy work or the store "
              "(Retry-After)"),
    )
}


def install(app: FastAPI) -> None:
    for exc_type, status in STATUS:
        app.add_exception_handler(exc_type, _handler(status))
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)


async def _http_error(request: Request, exc: HTTPException):
    """Starlette's own refusals, with a sentence that says what is allowed; a 405 lists every
    method of the path in ``Allow`` (not only those of the first route that matched it)."""
    if exc.status_code == 405:
        allowed = _allowed_methods(request) or (exc.headers or {}).get("Allow", "").split(", ")
        return JSONResponse({"detail": f"{request.method} is not allowed on this path; it "
                                       f"allows {', '.join(allowed)}."},
                            status_code=405, headers={"Allow": ", ".join(allowed)})
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        # Not UTF-8, or nested too deep for the JSON parser (no body here nests lists more
        # than 4 deep).
        return JSONResponse({"detail": "The body could not be read as JSON: send UTF-8 JSON "
                                       "text that nests lists at most a few levels deep, for "
                                       "example {}."}, status_code=400)
    if exc.status_code == 404 and exc.detail == "Not Found":
        return JSONResponse({"detail": f"There is no {request.url.path} in this API: its paths "
                                       "are listed at /docs."}, status_code=404)
    return await http_exception_handler(request, exc)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """Pydantic's 422 list, without echoing the input (it may be huge, or NaN); a body that is
    not JSON at all is a 400 with a sentence."""
    broken = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
    if broken is not None:
        where = (broken.get("ctx") or {}).get("error", "")
        return JSONResponse({"detail": "The body is not valid JSON"
                                       + (f" ({where})" if where else "")
                                       + ": send UTF-8 JSON text, for example {}."},
                            status_code=400)
    detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type")}
              for e in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


def _allowed_methods(request: Request) -> list[str]:
    """Every method of the API path that ``request`` names, from the app's OpenAPI table."""
    for template, operations in request.app.openapi()["paths"].items():
        if re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", template), request.url.path):
            methods = {method.upper() for method in operations}
            return sorted(methods | ({"HEAD"} if "GET" in methods else set()))
    return []


# The operations a service's refusal may point to (ServiceError.see), as this API spells them.
OPERATIONS = {
    "stop": "POST /api/networks/{id}/stop",
    "train": "POST /api/networks/{id}/train",
    "step": "POST /api/networks/{id}/step",
    "events": "GET /api/networks/{id}/events",
    "configure": "PATCH /api/networks/{id}",
}


def _handler(status: int):
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        body = {"detail": _sentence(str(exc), _operations(request, getattr(exc, "see", ())))}
        headers = {}
        if isinstance(exc, StepOrderError):
            body["next_step"] = exc.expected
        if isinstance(exc, Busy):
            headers["Retry-After"] = str(exc.retry_after)
            body["retry_after"] = exc.retry_after
        return JSONResponse(body, status_code=status, headers=headers)

    return handle


def _operations(request: Request, names: tuple[str, ...]) -> list[str]:
    network_id = request.path_params.get("network_id", "{id}")
    return [OPERATIONS[name].replace("{id}", network_id) for name in names]


def _sentence(text: str, operations: list[str] = ()) -> str:
    """A capitalised sentence; the operations it advises, named in parentheses at its end."""
    text = text.strip()
    if not text:
        return "Invalid request."
    text = text[:1].upper() + text[1:]
    if operations:
        end = text[-1] if text[-1] in ".!?" else ""
        text = f"{text.removesuffix(end)} ({'; '.join(operations)}){end}"
    return text
