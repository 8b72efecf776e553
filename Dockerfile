# Operator image: a static-ish release build on a distroless base.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY crds ./crds
COPY charts/driftmgr/crds ./charts/driftmgr/crds
COPY tests/fixtures ./tests/fixtures
RUN cargo build --release --locked --bin driftmgr

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/driftmgr /usr/local/bin/driftmgr
# Numeric, so the kubelet can verify runAsNonRoot (it cannot resolve a user name).
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/driftmgr"]
CMD ["operator"]
