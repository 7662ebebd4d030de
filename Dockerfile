# Slim, non-root image of duo. Configure it with the DUO_* environment variables
# (see config.example.toml); with no DUO_DB_HOST it runs its embedded PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DUO_STATE_DIR=/var/lib/duo
RUN useradd --create-home --uid 10001 duo && mkdir -p /var/lib/duo && chown duo /var/lib/duo
WORKDIR /app
COPY pyproject.toml README.md LICENSE NOTICE ./
COPY duo ./duo
RUN pip install --no-cache-dir .
USER duo
EXPOSE 5000 5443
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/health')"
CMD ["duo", "serve"]
