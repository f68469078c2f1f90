# The operator image for those who build with Docker (the local cluster and
# CI build the same image without a daemon: hack/images). One static binary,
# non-root; it is also the image of every builtin `auth` container and of the
# node-trust agent.
#   docker build -t <registry>/registry-auth-operator:<tag> .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags='-s -w' -o /out/manager .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/manager /manager
USER 65532:65532
ENTRYPOINT ["/manager"]
