#!/bin/sh
# Installs the Debian packages Berth's tests run against, when missing. Quiet when all are present.
set -eu
exec sh "$(dirname "$0")/debian-deps.sh" test-deps \
  docker-registry:docker-registry skopeo:skopeo umoci:umoci podman:podman chromium:chromium xvfb:xvfb-run \
  apache2-utils:htpasswd openssl:openssl zstd:zstd
