# The image of compose's `eval` service: gym-pdb itself (agents, LLM clients,
# the Docker SDK), which drives the sandbox pool over the Docker socket.
# Built from the repository root: docker build -f docker/eval.Dockerfile -t gym-pdb-eval:latest .
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
WORKDIR /src
COPY setup.cfg pyproject.toml README.md ./
COPY gym_pdb ./gym_pdb
COPY trainers ./trainers
RUN python3 -m pip install --no-cache-dir ".[docker,agents]"
WORKDIR /runs
ENTRYPOINT []
CMD ["gym-pdb", "--help"]
