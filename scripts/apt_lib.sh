# shellcheck shell=bash
# Shared by install_fonts.sh and install_test_deps.sh (sourced, not run).
# apt_install PKG...  installs Debian packages as root: waits for another apt/dpkg run to finish
# (never kills it), runs `apt-get update` once per script run, then `apt-get install -y -q`.

apt_usable() {
  [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1
}

# Wait while another process holds one of apt's or dpkg's locks (fcntl locks, as apt takes them).
apt_wait_for_locks() {
  python3 - <<'EOF'
import fcntl, os, sys, time

LOCKS = ["/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock", "/var/lib/apt/lists/lock",
         "/var/cache/apt/archives/lock"]
deadline, told = time.monotonic() + 1800, False

def busy():
    for path in LOCKS:
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.lockf(fd, fcntl.LOCK_UN)
        except OSError:
            return path
        finally:
            os.close(fd)
    return None

while (path := busy()) and time.monotonic() < deadline:
    if not told:
        print(f"Waiting for another apt/dpkg run to finish ({path} is locked)...", file=sys.stderr, flush=True)
        told = True
    time.sleep(5)
EOF
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  local apt=(apt-get -q -o DPkg::Lock::Timeout=1800)
  apt_wait_for_locks
  # `apt-get update` only once, before the first install of this script run.
  if [[ -z "${HOUQIN_APT_UPDATED:-}" ]]; then
    echo "+ apt-get update"
    "${apt[@]}" update || return 1
    export HOUQIN_APT_UPDATED=1
  fi
  apt_wait_for_locks
  echo "+ apt-get install -y -q $*"
  "${apt[@]}" install -y "$@"
}

have_cjk_font() {
  command -v fc-list >/dev/null 2>&1 && [[ -n "$(fc-list :lang=zh family 2>/dev/null)" ]]
}
