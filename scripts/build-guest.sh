#!/usr/bin/env bash
# A tiny bootable guest for the integration tests and benchmarks, in .cache/guest/:
#
#   vmlinuz        a Debian cloud kernel (apt-get download, extracted with dpkg-deb -x)
#   modules/       its virtio-net modules (NET_MODULES), loaded by the initramfs's /init
#   initrd.img     a busybox initramfs whose /init mounts proc and sys, prints
#                  RFCONSOLE-GUEST-READY on the console, then keeps an interactive shell
#                  on it (a new one whenever the last exits); udhcpc's hook script puts a
#                  DHCP lease's address on the interface
#   lxc-rootfs/    the same busybox tree as a folder, for LXC guests (<init>/init</init>)
#   version        the sha256 of this script when the two above were built
#
# QEMU boots it by direct kernel boot (no disk) with cmdline "console=ttyS0 rdinit=/init".
# Idempotent: what is already built is kept, except that a changed script rebuilds the
# initramfs and the rootfs (old caches in other worktrees and CI); remove .cache/guest to
# rebuild everything.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
guest="$root/.cache/guest"
readonly READY_MARKER=RFCONSOLE-GUEST-READY
readonly BUSYBOX=/bin/busybox
# The cloud kernel builds virtio-net as modules: these, in load order (each after what it
# depends on, from the modules' own depends=), go into the initramfs so a guest NIC with
# model virtio appears as ethN (a guest getting a DHCP lease: tests/integration).
readonly NET_MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net)

say() { printf 'build-guest: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# The versioned kernel package the cloud meta-package points at (installable here).
cloud_kernel_package() {
    apt-cache depends linux-image-cloud-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | head -n1
}

build_kernel() {
    [ -s "$guest/vmlinuz" ] && [ -s "$guest/modules/virtio_net.ko" ] && return 0
    command -v dpkg-deb >/dev/null || die "dpkg-deb is missing"
    local package work deb
    package="$(cloud_kernel_package)"
    [ -n "$package" ] || die "apt-cache knows no linux-image-*-cloud-amd64 (run apt-get update?)"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' RETURN
    chmod 0755 "$work"  # apt's _apt user downloads into it
    say "downloading $package"
    (cd "$work" && apt-get download -q "$package" >/dev/null) ||
        die "apt-get download $package failed"
    deb="$(ls "$work"/*.deb)"
    dpkg-deb -x "$deb" "$work/tree"
    local vmlinuz
    vmlinuz="$(ls "$work"/tree/boot/vmlinuz-* 2>/dev/null | head -n1)"
    [ -n "$vmlinuz" ] || die "$package holds no /boot/vmlinuz-*"
    mkdir -p "$guest"
    rm -rf "$guest/modules.tmp"
    mkdir "$guest/modules.tmp"
    local module found
    for module in "${NET_MODULES[@]}"; do
        found="$(find "$work/tree/lib/modules" -name "$module.ko" | head -n1)"
        [ -n "$found" ] || die "$package holds no $module.ko (a compressed .ko.xz cannot be loaded by busybox's insmod)"
        cp "$found" "$guest/modules.tmp/"
    done
    rm -rf "$guest/modules"
    mv "$guest/modules.tmp" "$guest/modules"
    cp "$vmlinuz" "$guest/vmlinuz.tmp"
    mv "$guest/vmlinuz.tmp" "$guest/vmlinuz"
    basename "$vmlinuz" >"$guest/kernel-version"
    say "kernel: $(cat "$guest/kernel-version")"
}

# populate_busybox_tree DIR: busybox and its applet links, and the /init described above.
populate_busybox_tree() {
    local tree=$1
    mkdir -p "$tree"/{bin,sbin,proc,sys,dev,tmp,etc,root}
    cp "$BUSYBOX" "$tree/bin/busybox"
    local applet
    for applet in $("$BUSYBOX" --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$tree/bin/$applet"
    done
    # udhcpc's default hook (Debian's busybox reads /etc/udhcpc/default.script): puts the leased
    # address on the interface, so `ip link set eth0 up && udhcpc -i eth0 -q` typed on the console
    # gives the guest an address from a libvirt network's dnsmasq, which libvirt then reports
    # (interfaceAddresses, source lease). Not run at boot: the guests' NICs on dp0 have no DHCP
    # server, and their switch's controller would see the requests.
    mkdir -p "$tree/etc/udhcpc"
    cat >"$tree/etc/udhcpc/default.script" <<'EOF'
#!/bin/sh
case "$1" in
    deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
    bound|renew)
        ip addr flush dev "$interface"
        ip addr add "$ip/${mask:-24}" dev "$interface"
        [ -z "$router" ] || ip route replace default via "${router%% *}" dev "$interface" ;;
esac
exit 0
EOF
    chmod 0755 "$tree/etc/udhcpc/default.script"
    cat >"$tree/init" <<EOF
#!/bin/sh
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
export HOME=/root PATH=/bin:/sbin PS1='rfguest# '
# libvirt's LXC driver sets \$container and gives the container a /dev of its own, whose
# /dev/console is a pty: mounting the host's devtmpfs over it would hide it.
if [ -z "\$container" ]; then
    mount -t devtmpfs devtmpfs /dev 2>/dev/null
    for module in ${NET_MODULES[*]}; do
        [ ! -f /lib/modules/\$module.ko ] || insmod /lib/modules/\$module.ko
    done
fi
echo $READY_MARKER
# An interactive shell on the console, as its controlling terminal (job control, ctrl+c);
# PID 1 must never exit, so a new shell starts whenever the last one ends.
while true; do
    if [ -n "\$container" ]; then
        setsid sh -c 'exec sh -i <>/dev/console >&0 2>&0'
    else
        setsid cttyhack sh -i
    fi
    sleep 1
done
EOF
    chmod 0755 "$tree/init"
}

build_initrd() {
    [ -s "$guest/initrd.img" ] && return 0
    [ -x "$BUSYBOX" ] || die "$BUSYBOX is missing (apt-get install busybox-static)"
    command -v cpio >/dev/null || die "cpio is missing (apt-get install cpio)"
    local work
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' RETURN
    populate_busybox_tree "$work/tree"
    mkdir -p "$work/tree/lib/modules"
    cp "$guest"/modules/*.ko "$work/tree/lib/modules/"
    mkdir -p "$guest"
    (cd "$work/tree" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$guest/initrd.img.tmp"
    mv "$guest/initrd.img.tmp" "$guest/initrd.img"
    say "initramfs: $(du -h "$guest/initrd.img" | cut -f1)"
}

build_lxc_rootfs() {
    [ -x "$guest/lxc-rootfs/init" ] && return 0
    rm -rf "$guest/lxc-rootfs.tmp"
    populate_busybox_tree "$guest/lxc-rootfs.tmp"
    rm -rf "$guest/lxc-rootfs"
    mv "$guest/lxc-rootfs.tmp" "$guest/lxc-rootfs"
}

# A changed script (a new /init) rebuilds what it makes; the kernel does not depend on it.
forget_stale_builds() {
    local version
    version="$(sha256sum "$0" | cut -d' ' -f1)"
    if [ "$(cat "$guest/version" 2>/dev/null)" != "$version" ]; then
        rm -rf "$guest/initrd.img" "$guest/lxc-rootfs"
    fi
    mkdir -p "$guest"
    printf '%s\n' "$version" >"$guest/version.new"
}

forget_stale_builds
build_kernel
build_initrd
build_lxc_rootfs
mv "$guest/version.new" "$guest/version"
say "ready: $guest/{vmlinuz,initrd.img,lxc-rootfs/}"
