#!/bin/bash
# Runs as root after the deb or rpm is installed. electron-builder substitutes the two ${...} macros;
# shell variables below are written without braces so they are left alone.
app_dir='/opt/${sanitizedProductName}'

# `berth` on PATH is the command-line tool; the desktop entry starts the app by its full path.
ln -sf "$app_dir/resources/bin/berth" '/usr/bin/${executable}'

# Chromium's sandbox needs its setuid helper only where unprivileged user namespaces do not work.
if [ -L /proc/self/ns/user ] && unshare --user true 2>/dev/null; then
  chmod 0755 "$app_dir/chrome-sandbox" || true
else
  chmod 4755 "$app_dir/chrome-sandbox" || true
fi

if command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database /usr/share/applications || true
fi

# Ubuntu 24.04 and later allow user namespaces only to profiled programs: install the profile
# electron-builder generated, when the local AppArmor can parse it.
profile_src="$app_dir/resources/apparmor-profile"
profile_dst='/etc/apparmor.d/${executable}'
if [ -f "$profile_src" ] && command -v apparmor_parser >/dev/null 2>&1 && apparmor_status --enabled >/dev/null 2>&1; then
  if apparmor_parser --skip-kernel-load --debug "$profile_src" >/dev/null 2>&1; then
    cp -f "$profile_src" "$profile_dst"
    if ! { [ -x /usr/bin/ischroot ] && /usr/bin/ischroot; }; then
      apparmor_parser --replace --write-cache --skip-read-cache "$profile_dst" || true
    fi
  else
    echo "Berth: this AppArmor does not accept the bundled profile; skipping it"
  fi
fi
exit 0
