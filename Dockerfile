# The Tovholder image: API (`tovholder serve`) and worker (`tovholder worker`).
# Dependencies come from requirements.lock only; the project itself is
# installed without resolving anything again (--no-deps), in editable form so
# that migrations/, processes/ and forms/ stay next to the code that finds them.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml ./
COPY engine ./engine
COPY api ./api
COPY workers ./workers
COPY tovholder ./tovholder
COPY migrations ./migrations
COPY processes ./processes
COPY forms ./forms
COPY config ./config
RUN pip install --no-deps -e . \
    && useradd --system --create-home --uid 10001 tovholder

USER tovholder
EXPOSE 8000
# docker-compose.yml runs `tovholder db upgrade` first; alone the image just serves.
CMD ["tovholder", "serve", "--host", "0.0.0.0", "--port", "8000"]
