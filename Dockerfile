# syntax=docker/dockerfile:1
# Multi-stage build: a Debian Go toolchain builds metricgate with cgo (the
# PostgreSQL parser and DuckDB are C/C++ libraries), then the binary runs on
# a distroless base that has glibc and libstdc++ and nothing else, as the
# non-root user nonroot (uid 65532).
#
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse HEAD) -t metricgate .
#   docker build --target ci -t metricgate:ci .     # the CI image
#
# .dockerignore keeps .git out of the context, so the commit that
# `metricgate version` prints comes from the build arguments.
# README.md ("Running serve in a container") shows how to run it.

FROM golang:1.26-bookworm AS build
ARG VERSION=""
ARG COMMIT=""
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/root/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath -buildvcs=false \
      -ldflags="-s -w -X gitlab.com/metricgate/metricgate/cli.linkVersion=${VERSION} -X gitlab.com/metricgate/metricgate/cli.linkCommit=${COMMIT}" \
      -o /out/metricgate ./cmd/metricgate
# The data directory, made here because the distroless images have no
# shell: the DuckDB warehouse file, file:// dump storage and the like.
RUN mkdir -p /out/data

# The CI image (docker build --target ci): the same binary with busybox, so
# that GitLab's runner can run the validate job of ci/queries.gitlab-ci.yml
# in the queries repository's checkout.
FROM gcr.io/distroless/cc-debian12:debug-nonroot AS ci
COPY --from=build /out/metricgate /usr/local/bin/metricgate
USER nonroot:nonroot
ENTRYPOINT []

# The service image (the default target).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/metricgate /usr/local/bin/metricgate
# /srv/metricgate is the working directory, where metricgate looks for
# what a reviewed checkout holds: queries/, dump.yml, schema.yml (and
# metricgate.yml, when no --config is given). The image carries those of
# the commit it was built from, so that `validate` and `demo` work in it
# as they are; in production mount the reviewed checkout over it
# (read-only; with queries.approval git, .git included).
WORKDIR /srv/metricgate
COPY --from=build /src/queries ./queries
COPY --from=build /src/dump.yml /src/schema.yml ./
# Writable by nonroot: point warehouse.url (duckdb:///var/lib/metricgate/
# warehouse.duckdb) and file:// storage here, and mount a volume on it to
# keep them.
COPY --from=build --chown=65532:65532 /out/data /var/lib/metricgate
VOLUME /var/lib/metricgate
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/metricgate"]
CMD ["serve"]
