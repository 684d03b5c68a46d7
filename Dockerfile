# syntax=docker/dockerfile:1
# Multi-stage build: a Debian Go toolchain builds metricgate with cgo (the
# PostgreSQL parser and DuckDB are C/C++ libraries), then the binary runs on
# a distroless base that has glibc and nothing else, as a non-root user.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/root/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath -ldflags='-s -w' -o /out/metricgate ./cmd/metricgate

# The CI image (docker build --target ci): the same binary with busybox, so
# that GitLab's runner can run the validate job of ci/queries.gitlab-ci.yml.
FROM gcr.io/distroless/cc-debian12:debug-nonroot AS ci
COPY --from=build /out/metricgate /usr/local/bin/metricgate
USER nonroot:nonroot
ENTRYPOINT []

# The service image (the default target).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/metricgate /usr/local/bin/metricgate
# The query files and dump.yml of the image, for `validate` in CI; in
# production mount the reviewed checkout and point queries.dir at it.
COPY --from=build /src/queries /queries
WORKDIR /
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/metricgate"]
CMD ["serve"]
