from fastapi import APIRouter

from backend import __version__

router = APIRouter(tags=["meta"])


@router.get("/health")
def health() -> dict:
    """Liveness: the server answers."""
    return {"status": "ok", "version": __version__}
