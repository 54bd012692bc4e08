"""What a teacher hands to a class: the server's addresses and their QR codes."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from backend.api.deps import ServicesDep
from backend.netinfo import WILDCARDS, addresses_to_open, is_loopback, lan_urls
from backend.sharing import qr_svg

router = APIRouter(tags=["sharing"])


@router.get("/share")
def share(services: ServicesDep) -> dict:
    """The addresses at which this server can be opened: `PLAYGROUND_PUBLIC_URL` alone when
    it is set, else the local network's first when it serves a classroom on 0.0.0.0."""
    settings = services.settings
    public = settings.public_address
    urls = addresses_to_open(settings.host, settings.port, public)
    classroom = not is_loopback(public) if public else settings.host in WILDCARDS
    lan = lan_urls(urls)
    return {"urls": lan + [u for u in urls if u not in lan], "classroom": classroom}


@router.get("/qr", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}}})
def qr(text: Annotated[str, Query(min_length=1, max_length=1000)]) -> Response:
    """A QR code (SVG) of `text`, usually a share link."""
    return Response(qr_svg(text), media_type="image/svg+xml",
                    headers={"Cache-Control": "max-age=3600"})
