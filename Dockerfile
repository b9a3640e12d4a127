FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CONTROLROOM_VAR_DIR=/var/lib/controlroom
WORKDIR /app
# Pango and a font for the PDF after-action reports (WeasyPrint).
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 \
    libpangoft2-1.0-0 fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY controlroom controlroom
COPY incidents incidents
COPY devices devices
COPY video video
COPY citizens citizens
COPY observatory observatory
COPY console console
COPY demo demo
RUN pip install --no-cache-dir .
COPY . .
RUN mkdir -p /var/lib/controlroom && python manage.py collectstatic --noinput --verbosity 0
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "controlroom.asgi:application"]
