# source-8x8-cdr on Airbyte's Python connector base image (Python 3.11, UTC clock, non-root `airbyte` user).
# The base image reference is the one in metadata.yaml (connectorBuildOptions.baseImage).
#
#   docker build -t airbyte/source-8x8-cdr:dev .
#   docker run --rm -v $(pwd)/secrets:/secrets airbyte/source-8x8-cdr:dev check --config /secrets/config.json

FROM docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73 AS builder

WORKDIR /airbyte/integration_code

# A C compiler, in this stage only: the install compiles the page check in C (source_8x8_cdr/fastpath/record_scan.c;
# Python's headers come with the base image). Without one it would still install, with the slower check.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*

# Only what `pip install .` needs: setup.py, the tested versions and the package (its manifest.yaml and
# schemas are package data).
COPY setup.py constraints.txt ./
COPY source_8x8_cdr ./source_8x8_cdr
RUN pip install --no-cache-dir -c constraints.txt .

FROM docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73

WORKDIR /airbyte/integration_code

# The installed package and its `source-8x8-cdr` console script, without the build context.
COPY --from=builder /usr/local /usr/local

USER airbyte

ENV AIRBYTE_ENTRYPOINT="source-8x8-cdr"
ENTRYPOINT ["source-8x8-cdr"]

LABEL io.airbyte.version=1.2.7
LABEL io.airbyte.name=airbyte/source-8x8-cdr
