# The gym-pdb server image (`gym-pdb serve` in a container), built without any
# registry on the sandbox image: docker/build-server-image.sh stages gym-pdb
# and its `serve` extra (installed by the host's pip for the image's Python,
# the same 3.11) in docker/.server-stage/, and this copies them in.
#
# The server makes its sandboxes on the Docker engine whose socket is mounted
# at /var/run/docker.sock (docker/stack.yaml, docker/k8s.yaml): a local
# sandbox cannot confine inside a container.
ARG BASE_IMAGE=gym-pdb-sandbox:latest
FROM ${BASE_IMAGE}
USER 0:0
COPY .server-stage/ /opt/gym-pdb-server/
ENV PYTHONPATH=/opt/gym-pdb-server \
    PATH=/opt/gym-pdb-server/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    GYM_PDB_SANDBOX=docker \
    HOME=/root
RUN python3 -c "import gym_pdb.serve.app, docker" && mkdir -p /data
LABEL gym-pdb.server-image="1"
WORKDIR /root
EXPOSE 8000
# Lenient: a replica busy starting sandboxes on a loaded node answers late, and an unhealthy task is replaced
# (its sessions lost with it).
HEALTHCHECK --interval=30s --timeout=30s --start-period=120s --retries=5 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=25)"]
ENTRYPOINT ["tini", "--", "python3", "-m", "gym_pdb.cli", "serve"]
CMD ["--host", "0.0.0.0", "--port", "8000", "--sandbox", "docker"]
