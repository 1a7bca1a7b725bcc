# Production image: gunicorn serves the application, whitenoise its static files.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /app --shell /usr/sbin/nologin gerance

WORKDIR /app
COPY pyproject.toml README.md ./
COPY gerance gerance
COPY accounts accounts
COPY contacts contacts
COPY correspondence correspondence
COPY ged ged
COPY redmine_bridge redmine_bridge
COPY email_channel email_channel
RUN pip install --no-cache-dir .
COPY . .
# Static files are collected into the image, outside /app/var (the documents volume, which would
# hide them), and served from there at run time: the manifest storage needs its manifest.
ENV STATIC_ROOT=/app/staticfiles
# collectstatic needs settings but no service: build-time values only.
RUN DEBUG=true VAR_DIR=/tmp/build python manage.py collectstatic --noinput \
    && rm -rf /tmp/build \
    && mkdir -p /app/var && chown gerance /app/var

USER gerance
EXPOSE 8000
CMD ["gunicorn", "gerance.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
