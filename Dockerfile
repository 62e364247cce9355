# Build: a static binary.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/ganetimgr ./cmd/ganetimgr

# Run: no shell, no package manager, a non-root user. Templates, static
# files, translations and migrations are inside the binary.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ganetimgr /usr/local/bin/ganetimgr
USER nonroot:nonroot
ENV GANETIMGR_LISTEN=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/ganetimgr"]
CMD ["serve"]
