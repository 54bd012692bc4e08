FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PLAYGROUND_FRONTEND_DIR=/app/frontend \
    NUMBA_CACHE_DIR=/tmp/numba-cache

WORKDIR /app
# Extras of pyproject.toml to install as well, in pip's brackets: "[ray,postgres]" for the
# scale profile of docker-compose.yml. Empty by default: the app alone, as `pip install .`.
ARG EXTRAS=""
COPY pyproject.toml README.md ./
COPY backend ./backend
COPY frontend ./frontend
RUN pip install --no-cache-dir ".${EXTRAS}" \
    && useradd --create-home --uid 10001 playground \
    && mkdir -p /data && chown playground /data

USER playground
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4).status == 200 else 1)"]
# The share link and QR codes give PLAYGROUND_PUBLIC_URL when it is set (docker run -e
# PLAYGROUND_PUBLIC_URL=http://192.168.1.20:8000/ ...), else this container's own address.
CMD ["python", "-m", "backend", "--host", "0.0.0.0", "--port", "8000", "--db", "/data/playground.db"]
