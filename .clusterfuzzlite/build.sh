#!/bin/bash -eu
# ClusterFuzzLite build script: the OSS-Fuzz one, unchanged (same $SRC,
# $OUT, $WORK and $SANITIZER; every target, its seed corpus, options and
# dictionary into $OUT).
exec bash "${PROJECT_DIR:-$SRC/deterministic-wasi-ctx}/fuzz/oss-fuzz/build.sh"
