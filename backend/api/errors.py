"""The core's and the services' exceptions as HTTP answers with a sentence."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from backend.core.training import CannotLearn, StepOrderError
from backend.services.networks import Conflict, Forbidden, LimitExceeded, NotFound

STATUS = [
    (NotFound, 404),
    (Forbidden, 403),
    (StepOrderError, 409),
    (CannotLearn, 409),
    (Conflict, 409),
    (LimitExceeded, 422),
    (ValueError, 422),  # SpecError, TrainingError, NetworkError, DatasetError, FeatureError
]


def install(app: FastAPI) -> None:
    for exc_type, status in STATUS:
        app.add_exception_handler(exc_type, _handler(status))
    app.add_exception_handler(RequestValidationError, _validation_error)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """Pydantic's 422 list, without echoing the input (it may be huge, or NaN)."""
    detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type")}
              for e in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


def _handler(status: int):
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        body = {"detail": _sentence(str(exc))}
        if isinstance(exc, StepOrderError):
            body["next_step"] = exc.expected
        return JSONResponse(body, status_code=status)

    return handle


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] if text else "Invalid request."
