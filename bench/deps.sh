#!/bin/sh
# Installs the Debian packages `npm run bench` needs (GNU time for peak RSS, the peers, the registry, and
# Chromium: the UI probe runs it and two workload layers are made of its files), when missing. Separate from
# scripts/test-deps.sh: the benchmark is not part of `npm test`.
set -eu
exec sh "$(dirname "$0")/../scripts/debian-deps.sh" bench-deps \
  time:/usr/bin/time docker-registry:docker-registry skopeo:skopeo podman:podman gzip:gzip coreutils:sha256sum chromium:chromium
