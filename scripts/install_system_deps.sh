#!/usr/bin/env bash
# Install the Debian packages Houqin needs, when missing and when we can (root + apt).
#   fonts: CJK fonts for Chinese PDFs and screenshots (fonts-noto-cjk)
#   test:  fonts + chromium (browser tests), postgresql (database tests), gettext (catalogue check)
set -euo pipefail
what="${1:-test}"

need=()
have_cjk_font() { fc-list :lang=zh 2>/dev/null | grep -q .; }
have_initdb() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }

have_cjk_font || need+=(fonts-noto-cjk fontconfig)
if [[ "$what" == "test" ]]; then
  [[ -x /usr/bin/chromium ]] || need+=(chromium)
  have_initdb || need+=(postgresql)
  command -v xgettext >/dev/null || need+=(gettext)
fi
[[ ${#need[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Wait for another apt run (e.g. unattended upgrades) instead of failing on its lock.
  apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }
  apt_get update -q
  apt_get install -y -q --no-install-recommends "${need[@]}"
  exit 0
fi

echo "Houqin needs these Debian packages: ${need[*]}" >&2
echo "  sudo apt-get install ${need[*]}" >&2
if [[ "$what" == "fonts" ]]; then
  echo "(continuing: Chinese text in PDFs needs a CJK font)" >&2
  exit 0
fi
exit 1
