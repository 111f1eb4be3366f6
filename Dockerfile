FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY models models
COPY streams streams
COPY synth synth
COPY agents agents
COPY cli cli
RUN pip install --no-cache-dir .
CMD ["resonance", "worker", "-l", "info"]
