#!/usr/bin/env bash
# The real daemons the integration tests and benchmarks use, on a machine without systemd:
# virtlogd, libvirtd (QEMU and LXC drivers, plus TCP on 127.0.0.1 without auth for the
# remote-URI test) and Open vSwitch in userspace.
#
#   scripts/daemons.sh start              start what is not running, wait until each answers
#   scripts/daemons.sh stop               stop them all (running guests are left alone)
#   scripts/daemons.sh status             say what runs; exit 1 if something does not answer
#   scripts/daemons.sh restart-libvirtd   kill libvirtd only and start it again
#   scripts/daemons.sh kill-host2         kill the second libvirtd only (a host going down)
#
# A second libvirtd ("host2", for multi-host and migration tests) runs with its own config,
# runtime, state and log dirs bind-mounted over libvirt's in its own mount namespace, its own
# host_uuid (a second daemon with the first one's uuid refuses migration), and an sshd on
# 127.0.0.1:$HOST2_SSH_PORT in the same namespace, key authentication only, with a key this
# script generates: it is reached as $HOST2_URI.
#
# libvirtd runs in its own mount namespace without the cgroup2 hybrid mount (LXC needs that)
# and under scripts/subreaper.py, so the QEMUs it daemonises are reaped at once and
# `virsh destroy` takes a fraction of a second instead of PID 1's 1.2-1.7 s.
# Set RFCONSOLE_NO_SUBREAPER=1 to start libvirtd the plain way (`libvirtd -d`).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
readonly TCP_PORT=16509
readonly WAIT_SECONDS=30
readonly LOG_DIR=/var/log/libvirt
readonly LIBVIRTD_PIDFILE=/run/libvirtd.pid
readonly VIRTLOGD_PIDFILE=/run/virtlogd.pid
readonly OVS_RUN=/var/run/openvswitch
readonly OVS_DB=/etc/openvswitch/conf.db
readonly OVS_SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
readonly HOST2_DIR=/var/lib/rfconsole-host2
readonly HOST2_RUN=/run/rfconsole-host2
readonly HOST2_SSH_PORT=2222
readonly HOST2_KEY=$HOST2_DIR/client_key
readonly HOST2_URI="qemu+ssh://root@127.0.0.1:$HOST2_SSH_PORT/system?keyfile=$HOST2_KEY&no_verify=1"
# QEMU's incoming-migration ports: the first daemon uses libvirt's default 49152-49215
readonly HOST2_MIGRATION_PORTS=(49300 49363)

# Daemons must not inherit our open files: a lock held by whoever runs us (flock(1), a test
# session) would otherwise stay held by libvirtd and Open vSwitch for their whole life.
close_inherited_fds() {
    local fd number
    for fd in /proc/$$/fd/*; do
        number=${fd##*/}
        if [ "$number" -gt 2 ] 2>/dev/null; then eval "exec $number>&-" 2>/dev/null || true; fi
    done
}

say() { printf 'daemons: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

require_root() {
    [ "$(id -u)" -eq 0 ] || die "must run as root (libvirtd and Open vSwitch are system daemons)"
}

# set_conf_key FILE KEY VALUE: make FILE hold exactly one active `KEY = VALUE` line.
set_conf_key() {
    local file=$1 key=$2 value=$3 line
    line="$key = $value"
    mkdir -p "$(dirname "$file")"
    touch "$file"
    if grep -qxF "$line" "$file" && [ "$(grep -cE "^[[:space:]]*$key[[:space:]]*=" "$file")" -eq 1 ]; then
        return 0
    fi
    local temp
    temp="$(mktemp "$file.XXXXXX")"
    grep -vE "^[[:space:]]*$key[[:space:]]*=" "$file" >"$temp" || true
    printf '%s\n' "$line" >>"$temp"
    chmod 0644 "$temp"
    mv "$temp" "$file"
}

pid_alive() {  # pid_alive PIDFILE
    local pid
    [ -s "$1" ] || return 1
    pid="$(cat "$1")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# wait_for DESCRIPTION COMMAND...: retry COMMAND until it succeeds, for at most WAIT_SECONDS.
wait_for() {
    local description=$1; shift
    local deadline=$((SECONDS + WAIT_SECONDS))
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "error: $description did not answer within ${WAIT_SECONDS}s; last attempt said:"
            "$@" 2>&1 | sed 's/^/    /' >&2 || true
            return 1
        fi
        sleep 0.1
    done
}

prepare_libvirt() {
    getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
    id -u libvirt-qemu >/dev/null 2>&1 ||
        useradd --system --gid libvirt-qemu --no-create-home --home-dir /var/lib/libvirt \
            --shell /usr/sbin/nologin libvirt-qemu
    mkdir -p "$LOG_DIR/qemu" "$LOG_DIR/lxc" /var/lib/libvirt /run/libvirt
    set_conf_key /etc/libvirt/qemu.conf user '"root"'
    set_conf_key /etc/libvirt/qemu.conf group '"root"'
    set_conf_key /etc/libvirt/libvirtd.conf listen_tls 0
    set_conf_key /etc/libvirt/libvirtd.conf listen_tcp 1
    set_conf_key /etc/libvirt/libvirtd.conf auth_tcp '"none"'
    set_conf_key /etc/libvirt/libvirtd.conf listen_addr '"127.0.0.1"'
    set_conf_key /etc/libvirt/libvirtd.conf tcp_port "\"$TCP_PORT\""
}

libvirtd_answers() {
    virsh -c qemu:///system version &&
        virsh -c lxc:///system version &&
        virsh -c "qemu+tcp://127.0.0.1:$TCP_PORT/system" version
}

start_virtlogd() {
    if pid_alive "$VIRTLOGD_PIDFILE"; then return 0; fi
    say "starting virtlogd"
    /usr/sbin/virtlogd -d || die "virtlogd -d failed (see $LOG_DIR)"
    wait_for "virtlogd" test -S /run/libvirt/virtlogd-sock || die "virtlogd did not create its socket"
}

# The command that becomes libvirtd: a private mount namespace without cgroup2's hybrid
# mount (libvirt's LXC driver refuses the mixed layout), then libvirtd in the foreground.
readonly LIBVIRTD_IN_NAMESPACE='
if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified || exit 1; fi
exec /usr/sbin/libvirtd --listen "$@"'

start_libvirtd() {
    if pid_alive "$LIBVIRTD_PIDFILE" && libvirtd_answers >/dev/null 2>&1; then return 0; fi
    if pid_alive "$LIBVIRTD_PIDFILE"; then
        say "libvirtd runs (pid $(cat "$LIBVIRTD_PIDFILE")) but does not answer yet; waiting"
    else
        rm -f "$LIBVIRTD_PIDFILE"
        if [ "${RFCONSOLE_NO_SUBREAPER:-0}" = 1 ]; then
            say "starting libvirtd (plain: libvirtd -d, orphans reaped by PID 1)"
            unshare -m --propagation private sh -c "$LIBVIRTD_IN_NAMESPACE" libvirtd -d \
                || die "libvirtd -d failed; see $LOG_DIR/libvirtd.log"
        else
            say "starting libvirtd under scripts/subreaper.py"
            setsid "$here/subreaper.py" unshare -m --propagation private \
                sh -c "$LIBVIRTD_IN_NAMESPACE" libvirtd \
                </dev/null >>"$LOG_DIR/libvirtd.log" 2>&1 &
        fi
    fi
    wait_for "libvirtd (qemu:///system, lxc:///system, qemu+tcp://127.0.0.1:$TCP_PORT/system)" \
        libvirtd_answers || die "libvirtd is not usable; its log: $LOG_DIR/libvirtd.log"
}

# host2's dirs: libvirt's own paths, each with a private directory bind-mounted over it.
readonly HOST2_BINDS=(etc:/etc/libvirt run:/run/libvirt lib-qemu:/var/lib/libvirt/qemu
    lib-lxc:/var/lib/libvirt/lxc log:/var/log/libvirt cache:/var/cache/libvirt)

prepare_host2() {
    local bind
    mkdir -p "$HOST2_RUN" /run/sshd
    for bind in "${HOST2_BINDS[@]}"; do mkdir -p "$HOST2_DIR/${bind%%:*}" "${bind#*:}"; done
    mkdir -p "$HOST2_DIR/log/qemu" "$HOST2_DIR/log/lxc" "$HOST2_DIR/etc/qemu" "$HOST2_DIR/etc/lxc"
    chmod 0700 "$HOST2_DIR"
    local conf=$HOST2_DIR/etc/libvirtd.conf
    if ! grep -qE '^host_uuid = ' "$conf" 2>/dev/null; then
        set_conf_key "$conf" host_uuid "\"$(cat /proc/sys/kernel/random/uuid)\""
    fi
    local host1_uuid
    host1_uuid="$(sed -n 's/^host_uuid = //p' /etc/libvirt/libvirtd.conf)"
    [ -z "$host1_uuid" ] || ! grep -qxF "host_uuid = $host1_uuid" "$conf" ||
        die "$conf has the first libvirtd's host_uuid"
    set_conf_key "$conf" listen_tcp 0
    set_conf_key "$conf" listen_tls 0
    set_conf_key "$HOST2_DIR/etc/qemu.conf" user '"root"'
    set_conf_key "$HOST2_DIR/etc/qemu.conf" group '"root"'
    # virtlogd's socket is the first daemon's (hidden here): QEMU writes its log file itself
    set_conf_key "$HOST2_DIR/etc/qemu.conf" stdio_handler '"file"'
    # both daemons share the cgroup tree, where a domain's group is named after its per-daemon
    # id and name: during a migration between them two groups could clash
    set_conf_key "$HOST2_DIR/etc/qemu.conf" cgroup_controllers '[ ]'
    set_conf_key "$HOST2_DIR/etc/qemu.conf" migration_port_min "${HOST2_MIGRATION_PORTS[0]}"
    set_conf_key "$HOST2_DIR/etc/qemu.conf" migration_port_max "${HOST2_MIGRATION_PORTS[1]}"
    set_conf_key "$HOST2_DIR/etc/lxc.conf" log_with_libvirtd 0
    [ -s "$HOST2_DIR/ssh_host_ed25519_key" ] ||
        ssh-keygen -q -t ed25519 -N '' -C rfconsole-host2-sshd -f "$HOST2_DIR/ssh_host_ed25519_key"
    [ -s "$HOST2_KEY" ] || ssh-keygen -q -t ed25519 -N '' -C rfconsole-host2-client -f "$HOST2_KEY"
    install -m 0600 "$HOST2_KEY.pub" "$HOST2_DIR/authorized_keys"
    cat >"$HOST2_DIR/sshd_config.new" <<SSHD
ListenAddress 127.0.0.1:$HOST2_SSH_PORT
HostKey $HOST2_DIR/ssh_host_ed25519_key
PidFile $HOST2_RUN/sshd.pid
AuthorizedKeysFile $HOST2_DIR/authorized_keys
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers root
UsePAM no
X11Forwarding no
AllowTcpForwarding no
SSHD
    mv "$HOST2_DIR/sshd_config.new" "$HOST2_DIR/sshd_config"
}

host2_answers() { virsh -c "$HOST2_URI" version; }

# The command that becomes host2: its dirs mounted over libvirt's, its sshd (which sees them,
# so virt-ssh-helper reaches this daemon's socket), then libvirtd in the foreground.
readonly HOST2_IN_NAMESPACE='
dir=$1; shift
if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified || exit 1; fi
for bind in $BINDS; do mount --bind "$dir/${bind%%:*}" "${bind#*:}" || exit 1; done
/usr/sbin/sshd -f "$dir/sshd_config" || exit 1
exec /usr/sbin/libvirtd "$@"'

start_host2() {
    if pid_alive "$HOST2_RUN/libvirtd.pid" && host2_answers >/dev/null 2>&1; then return 0; fi
    if ! pid_alive "$HOST2_RUN/libvirtd.pid"; then
        stop_pidfile "host2's sshd" "$HOST2_RUN/sshd.pid"
        rm -f "$HOST2_RUN/libvirtd.pid"
        say "starting the second libvirtd (host2) with its sshd on 127.0.0.1:$HOST2_SSH_PORT"
        BINDS="${HOST2_BINDS[*]}" setsid "$here/subreaper.py" unshare -m --propagation private \
            sh -c "$HOST2_IN_NAMESPACE" host2 "$HOST2_DIR" --pid-file "$HOST2_RUN/libvirtd.pid" \
            </dev/null >>"$HOST2_DIR/log/libvirtd.log" 2>&1 &
    fi
    wait_for "host2 ($HOST2_URI)" host2_answers ||
        die "the second libvirtd is not usable; its log: $HOST2_DIR/log/libvirtd.log"
}

stop_host2() {
    stop_pidfile "host2's libvirtd" "$HOST2_RUN/libvirtd.pid"
    stop_pidfile "host2's sshd" "$HOST2_RUN/sshd.pid"
}

ovs_answers() { ovs-vsctl --timeout=2 show; }

start_ovs() {
    mkdir -p "$OVS_RUN" /var/log/openvswitch "$(dirname "$OVS_DB")"
    if [ ! -s "$OVS_DB" ]; then
        say "creating the Open vSwitch database $OVS_DB"
        ovsdb-tool create "$OVS_DB" "$OVS_SCHEMA" || die "ovsdb-tool create $OVS_DB failed"
    fi
    if ! pid_alive "$OVS_RUN/ovsdb-server.pid"; then
        say "starting ovsdb-server"
        ovsdb-server "$OVS_DB" --remote="punix:$OVS_RUN/db.sock" \
            --pidfile="$OVS_RUN/ovsdb-server.pid" --detach \
            --log-file=/var/log/openvswitch/ovsdb-server.log -vconsole:off ||
            die "ovsdb-server failed; see /var/log/openvswitch/ovsdb-server.log"
        ovs-vsctl --no-wait --timeout=10 init || die "ovs-vsctl init failed"
    fi
    if ! pid_alive "$OVS_RUN/ovs-vswitchd.pid"; then
        # No kernel module here: vswitchd serves userspace (datapath_type=netdev) bridges only.
        say "starting ovs-vswitchd (userspace datapath)"
        ovs-vswitchd "unix:$OVS_RUN/db.sock" --pidfile="$OVS_RUN/ovs-vswitchd.pid" --detach \
            --log-file=/var/log/openvswitch/ovs-vswitchd.log -vconsole:off ||
            die "ovs-vswitchd failed; see /var/log/openvswitch/ovs-vswitchd.log"
    fi
    wait_for "Open vSwitch (ovs-vsctl show)" ovs_answers || die "Open vSwitch is not usable"
    wait_for "ovs-vswitchd" ovs-appctl -t "$OVS_RUN/ovs-vswitchd.$(cat "$OVS_RUN/ovs-vswitchd.pid").ctl" version \
        || die "ovs-vswitchd does not answer; see /var/log/openvswitch/ovs-vswitchd.log"
}

# stop_pidfile NAME PIDFILE: TERM, then KILL after 5 s.
stop_pidfile() {
    local name=$1 pidfile=$2 pid
    pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
    pid="$(cat "$pidfile")"
    say "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 5))
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; break; fi
        sleep 0.05
    done
    rm -f "$pidfile"
}

cmd_start() {
    require_root
    prepare_libvirt
    start_virtlogd
    start_libvirtd
    start_ovs
    prepare_host2
    start_host2
    say "ready: libvirtd (qemu, lxc, tcp 127.0.0.1:$TCP_PORT), virtlogd, Open vSwitch, host2 ($HOST2_URI)"
}

cmd_stop() {
    require_root
    stop_host2
    stop_pidfile libvirtd "$LIBVIRTD_PIDFILE"
    stop_pidfile virtlogd "$VIRTLOGD_PIDFILE"
    stop_pidfile ovs-vswitchd "$OVS_RUN/ovs-vswitchd.pid"
    stop_pidfile ovsdb-server "$OVS_RUN/ovsdb-server.pid"
}

cmd_restart_libvirtd() {
    require_root
    pid_alive "$LIBVIRTD_PIDFILE" || die "libvirtd is not running; use: scripts/daemons.sh start"
    local pid
    pid="$(cat "$LIBVIRTD_PIDFILE")"
    say "killing libvirtd (pid $pid)"
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    rm -f "$LIBVIRTD_PIDFILE"
    start_libvirtd
}

cmd_kill_host2() {
    require_root
    pid_alive "$HOST2_RUN/libvirtd.pid" || die "host2 is not running; use: scripts/daemons.sh start"
    local pid
    pid="$(cat "$HOST2_RUN/libvirtd.pid")"
    say "killing host2's libvirtd (pid $pid)"
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    rm -f "$HOST2_RUN/libvirtd.pid"
}

cmd_status() {
    local failed=0
    report() {
        if "${@:2}" >/dev/null 2>&1; then say "$1: answers"; else say "$1: NOT answering"; failed=1; fi
    }
    report "virtlogd" pid_alive "$VIRTLOGD_PIDFILE"
    report "libvirtd qemu:///system" virsh -c qemu:///system version
    report "libvirtd lxc:///system" virsh -c lxc:///system version
    report "libvirtd qemu+tcp://127.0.0.1:$TCP_PORT/system" virsh -c "qemu+tcp://127.0.0.1:$TCP_PORT/system" version
    report "Open vSwitch" ovs_answers
    report "host2 $HOST2_URI" host2_answers
    if pid_alive "$LIBVIRTD_PIDFILE"; then
        local parent
        parent="$(ps -o comm= -p "$(ps -o ppid= -p "$(cat "$LIBVIRTD_PIDFILE")" | tr -d ' ')" || true)"
        say "libvirtd's parent: ${parent:-?} (subreaper.py means prompt reaping)"
    fi
    return "$failed"
}

close_inherited_fds

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    restart-libvirtd) cmd_restart_libvirtd ;;
    kill-host2) cmd_kill_host2 ;;
    *) echo "usage: $0 start|stop|status|restart-libvirtd|kill-host2" >&2; exit 2 ;;
esac
