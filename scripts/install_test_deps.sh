#!/usr/bin/env bash
# System packages `make test` needs, installed through apt when missing (root only):
#   chromium        /usr/bin/chromium: browser tests in tests/e2e (Playwright drives it)  [required]
#   postgresql      /usr/lib/postgresql/*/bin/initdb: the PostgreSQL stage (scripts/pg_test.sh) [required]
#   fonts-noto-cjk  fc-list :lang=zh: Chinese text in screenshots and PDFs
#   gettext         msgfmt/xgettext: the catalogue test
#   redis-server    the district-mode Celery test starts one on a free port (skipped without it)
#   poppler-utils   pdftoppm/pdfinfo/pdftotext: printed labels, cards and ledgers are rendered and read back [required]
# Not root, or no apt: prints the Debian packages to install and exits 1 when chromium,
# postgresql or poppler-utils is missing (the tests cannot run without them), 0 otherwise.
set -euo pipefail
# shellcheck source=scripts/apt_lib.sh
source "$(dirname "$0")/apt_lib.sh"

have_chromium() { [[ -x /usr/bin/chromium ]]; }
have_postgresql() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
have_gettext() { command -v msgfmt >/dev/null 2>&1 && command -v xgettext >/dev/null 2>&1; }
have_poppler() { command -v pdftoppm >/dev/null 2>&1 && command -v pdfinfo >/dev/null 2>&1; }
have_redis() { command -v redis-server >/dev/null 2>&1 || [[ -x /usr/bin/redis-server ]]; }

missing() {
  local m=()
  have_chromium || m+=(chromium)
  have_postgresql || m+=(postgresql)
  have_cjk_font || m+=(fonts-noto-cjk)
  command -v fc-list >/dev/null 2>&1 || m+=(fontconfig)
  have_gettext || m+=(gettext)
  have_redis || m+=(redis-server)
  have_poppler || m+=(poppler-utils)
  echo "${m[@]}"
}

read -r -a need <<<"$(missing)"
[[ ${#need[@]} -eq 0 ]] && exit 0

if apt_usable; then
  echo "Installing Debian packages for the tests: ${need[*]}"
  apt_install "${need[@]}" || echo "WARNING: apt-get failed" >&2
  read -r -a need <<<"$(missing)"
  [[ ${#need[@]} -eq 0 ]] && exit 0
fi

echo "make test needs these Debian packages: ${need[*]}" >&2
echo "  sudo apt-get install ${need[*]}" >&2
for p in "${need[@]}"; do
  if [[ $p == chromium || $p == postgresql || $p == poppler-utils ]]; then
    echo "The tests cannot run without chromium (browser tests), postgresql (PostgreSQL stage) and" \
         "poppler-utils (printed labels are read back)." >&2
    exit 1
  fi
done
echo "(continuing: without them some Chinese rendering, the catalogue check and the Celery test are skipped)" >&2
exit 0
