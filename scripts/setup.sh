#!/usr/bin/env bash
# Idempotent set-up: Debian packages, the virtualenv in .venv, the project installed editable.
# Second run: a few dpkg queries and a timestamp check, well under a second.
#
# Every program the code, the tests, the scripts and bench/ run is listed in COMMANDS with the
# Debian package that ships it (found with `dpkg -S`); after installing, each must be there, or
# the set-up stops naming the package. Add a line when code starts running a new program.
# `scripts/setup.sh --check` only checks the commands (no apt, no venv).
set -euo pipefail
case $0 in */*) cd "${0%/*}/.." ;; *) cd .. ;; esac  # no dirname: --check runs with a bare PATH

# command : Debian package
COMMANDS=(
  # libvirt: the daemons (scripts/daemons.sh), virsh (tests, bench), virt-xml-validate (tests),
  # which is a shell script running xmllint (libxml2-utils: libvirt-clients does not pull it in)
  /usr/sbin/libvirtd:libvirt-daemon
  /usr/sbin/virtlogd:libvirt-daemon
  virsh:libvirt-clients
  virt-xml-validate:libvirt-clients
  xmllint:libxml2-utils
  qemu-system-x86_64:qemu-system-x86
  # base images and per-VM overlays (rfconsole/images.py); markers written into disks (tests)
  qemu-img:qemu-utils
  qemu-io:qemu-utils
  # userspace Open vSwitch (scripts/daemons.sh, on-demand and redeploy tests, bench)
  ovs-vsctl:openvswitch-switch
  /usr/sbin/ovs-vswitchd:openvswitch-switch
  ovsdb-tool:openvswitch-common
  /usr/sbin/ovsdb-server:openvswitch-common
  ovs-appctl:openvswitch-common
  # the tiny guest (scripts/build-guest.sh): busybox initramfs, a Debian cloud kernel
  /bin/busybox:busybox-static
  cpio:cpio
  gzip:gzip
  dpkg-deb:dpkg
  apt-get:apt
  apt-cache:apt
  # scripts/fetch-libvirt-corpus.sh: libvirt's test XMLs from its Debian source (.orig.tar.xz)
  tar:tar
  xz:xz-utils
  # scripts/daemons.sh (and every script: bash)
  bash:bash
  unshare:util-linux
  setsid:util-linux
  # rfconsole/images.py: qemu-img dies with rfconsole (setpriv --pdeathsig)
  setpriv:util-linux
  mountpoint:util-linux
  umount:mount
  /usr/sbin/useradd:passwd
  /usr/sbin/groupadd:passwd
  getent:libc-bin
  ps:procps
  pgrep:procps
  # libvirtd runs dnsmasq for a libvirt network's DHCP (a guest's address from its lease:
  # tests/integration's dhcp_network); ip finds a free subnet for that network
  dnsmasq:dnsmasq-base
  ip:iproute2
  # the second libvirtd reached over qemu+ssh (scripts/daemons.sh): sshd on loopback, its
  # keys; the client side (ssh) and libvirt's remote helper on the daemon's side
  /usr/sbin/sshd:openssh-server
  ssh-keygen:openssh-client
  ssh:openssh-client
  virt-ssh-helper:libvirt-daemon
  mount:mount
  # end-to-end console tests
  tmux:tmux
  # `rfconsole serve`'s tests (tests/browser): a real headless Chromium, Debian's (Playwright downloads
  # none); chromedriver for Selenium users
  /usr/bin/chromium:chromium
  chromedriver:chromium-driver
  # the Makefile's targets
  make:make
  # .venv and libvirt-python's build
  python3:python3
  pkg-config:pkg-config
  gcc:gcc
)
# Packages that ship no command of their own but are needed: libvirt's QEMU and LXC drivers,
# headers for libvirt-python and Python extensions, the venv module.
LIBRARY_PACKAGES=(libvirt-daemon-driver-qemu libvirt-daemon-driver-lxc libvirt-dev python3-dev python3-venv)

check_commands() {
  local entry command absent=()
  for entry in "${COMMANDS[@]}"; do
    command=${entry%:*}
    command -v "$command" >/dev/null 2>&1 || absent+=("$command (Debian package ${entry##*:})")
  done
  if ((${#absent[@]})); then
    echo "setup: error: these commands are missing:" >&2
    printf '  %s\n' "${absent[@]}" >&2
    echo "  install the packages named with apt-get install (scripts/setup.sh does), or check the apt sources" >&2
    exit 1
  fi
}

if [ "${1:-}" = --check ]; then
  check_commands
  exit 0
fi

APT_PACKAGES=("${LIBRARY_PACKAGES[@]}")
for entry in "${COMMANDS[@]}"; do
  package=${entry##*:}
  [[ " ${APT_PACKAGES[*]} " == *" $package "* ]] || APT_PACKAGES+=("$package")
done

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

check_commands

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi
stamp=.venv/.rfconsole-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q -e '.[test]'
  touch "$stamp"
fi
