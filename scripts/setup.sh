#!/usr/bin/env bash
# Idempotent set-up: Debian packages, the virtualenv in .venv, the project installed editable.
# Second run: a few dpkg queries and a timestamp check, well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # libvirt: daemon, QEMU and LXC drivers, virsh/virt-xml-validate, headers for libvirt-python
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-driver-lxc libvirt-clients libvirt-dev pkg-config
  qemu-system-x86
  # on-demand boot tests: userspace Open vSwitch
  openvswitch-switch
  # tiny guest for the real-daemon tests (busybox initramfs + a Debian cloud kernel)
  busybox-static cpio
  # end-to-end console tests
  tmux
  python3-venv python3-dev gcc
)

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
