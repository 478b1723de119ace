# The web and worker image for docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WAVELENGTH_DATA=/data

# PyTorch's CPU build by default; build with --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128
# (or the CUDA version of your driver) for a GPU worker.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

WORKDIR /app
COPY requirements.txt requirements-models.txt ./
RUN pip install --no-cache-dir --index-url "$TORCH_INDEX_URL" torch==2.13.0 \
 && pip install --no-cache-dir -r requirements.txt \
 && pip install --no-cache-dir --no-deps -r requirements-models.txt

COPY . .
# collectstatic reads settings, which need a database URL but never connect to it here.
RUN DATABASE_URL=postgres://build@localhost/build SECRET_KEY=build-only \
    python manage.py collectstatic --noinput --verbosity 0

RUN useradd --create-home --uid 1000 wavelength && mkdir -p /data && chown wavelength /data
USER wavelength
VOLUME ["/data"]
EXPOSE 8000
# Processes, threads and timeouts: gunicorn.conf.py (WEB_WORKERS, WEB_THREADS, WEB_TIMEOUT).
CMD ["gunicorn", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "discovery.wsgi"]
