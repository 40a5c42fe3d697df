//! The benchmark crate: `loadgen` and the peer servers live in `src/bin/`.
