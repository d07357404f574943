#!/bin/sh
# Installs the Debian packages Berth's tests run against, when missing. Quiet when all are present.
set -eu

# "package:command" pairs; the command proves the package works from PATH.
PAIRS="docker-registry:docker-registry skopeo:skopeo umoci:umoci podman:podman chromium:chromium xvfb:xvfb-run apache2-utils:htpasswd openssl:openssl zstd:zstd"

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
  echo "test-deps: missing test tools (Debian package names): $missing" >&2
  echo "test-deps: install their equivalents with your package manager, then rerun." >&2
  exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "test-deps: missing: $missing" >&2
  echo "test-deps: run: sudo apt-get update && sudo apt-get install -y --no-install-recommends $missing fonts-liberation" >&2
  exit 1
fi

extra=""
case " $missing " in *" chromium "*) extra="fonts-liberation" ;; esac

echo "test-deps: installing $missing $extra" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing $extra >/dev/null

case " $missing " in
  *" chromium "*)
    if ! chromium --headless=new --no-sandbox --disable-gpu --dump-dom 'data:text/html,<p>ok</p>' 2>/dev/null | grep -q '<p>ok</p>'; then
      echo "test-deps: chromium does not render headless without recommends; installing them" >&2
      recommends=$(apt-cache depends chromium chromium-common | awk '/Recommends:/ && $2 !~ /^</ {print $2}' | sort -u)
      # shellcheck disable=SC2086
      apt-get install -y -qq $recommends >/dev/null
    fi
    ;;
esac

still=""
for pair in $PAIRS; do
  cmd=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || still="$still ${pair%%:*}"
done
if [ -n "$still" ]; then
  echo "test-deps: still missing after install:$still" >&2
  exit 1
fi
