#!/bin/sh
# Installs the Debian packages `npm run bench` needs (GNU time for peak RSS, the peers, the registry), when
# missing. Separate from scripts/test-deps.sh: the benchmark is not part of `npm test`.
set -eu

# "package:command" pairs; the command proves the package works.
PAIRS="time:/usr/bin/time docker-registry:docker-registry skopeo:skopeo podman:podman gzip:gzip coreutils:sha256sum"

missing=""
for pair in $PAIRS; do
  pkg=${pair%%:*}
  cmd=${pair#*:}
  if ! command -v "$cmd" >/dev/null 2>&1; then
    missing="$missing $pkg"
  fi
done
missing=${missing# }

[ -z "$missing" ] && exit 0

if [ ! -r /etc/debian_version ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "bench-deps: missing (Debian package names): $missing; install their equivalents, then rerun." >&2
  exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "bench-deps: missing: $missing" >&2
  echo "bench-deps: run: sudo apt-get update && sudo apt-get install -y --no-install-recommends $missing" >&2
  exit 1
fi

echo "bench-deps: installing $missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
