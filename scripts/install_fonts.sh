#!/usr/bin/env bash
# `make fonts` (part of `make run`): a CJK font so that Chinese text renders in generated PDFs and
# images. Installs Debian's fonts-noto-cjk when `fc-list :lang=zh` finds no Chinese font and we
# are root with apt; otherwise (or when apt fails, e.g. on an offline intranet) it says which
# package to install and carries on: Houqin runs without it.
set -euo pipefail
# shellcheck source=scripts/apt_lib.sh
source "$(dirname "$0")/apt_lib.sh"

have_cjk_font && exit 0

pkgs=(fonts-noto-cjk)
command -v fc-list >/dev/null 2>&1 || pkgs+=(fontconfig)

if apt_usable; then
  echo "No Chinese (CJK) font found: installing ${pkgs[*]}"
  if apt_install "${pkgs[@]}" && have_cjk_font; then
    exit 0
  fi
  echo "WARNING: installing ${pkgs[*]} failed." >&2
fi
echo "WARNING: no Chinese (CJK) font on this machine: Chinese text in PDFs and images will not render." >&2
echo "         Install the Debian package fonts-noto-cjk:  sudo apt-get install fonts-noto-cjk" >&2
echo "         Continuing without it." >&2
exit 0
