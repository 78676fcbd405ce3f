"""A real Open vSwitch bridge connecting to `rfconsole watch` boots its real QEMU guest.

The witnesses are separate clients: virsh for the guests, ovs-vsctl for the controllers.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

import pytest

from rfconsole.model.rftest2 import RFTEST2_VMS
from rfconsole.ondemand import openflow as of
from tests.integration.conftest import (
    DATA_BRIDGE,
    GUEST_MEMORY_MIB,
    QEMU_URI,
    domain_state,
    run_cli,
    wait_until,
)
from tests.integration.ondemand.conftest import Watch, ovs_vsctl, remove_test_bridges

pytestmark = pytest.mark.integration

BOOT_TIMEOUT = 60.0


def running(name: str) -> bool:
    return domain_state(QEMU_URI, name) == "running"


def test_bridge_with_datapath_5_boots_rfvmA_and_nothing_else(watch, bridges):
    assert domain_state(QEMU_URI, "rfvmA") is None  # not even defined: watch defines it from XML/
    bridges.add(5, watch.target)
    wait_until(lambda: running("rfvmA"), BOOT_TIMEOUT, "rfvmA to run after switch 5 connected")
    line = watch.wait_for("rfvmA: running at +")
    assert "switch 0000000000000005" in line
    watch.wait_for("rfvmA: defined from its XML")
    watch.wait_for("switch 0000000000000005: rfconsole is a slave controller")
    for other in ("rfvmB", "rfvmC", "rfvmD"):
        assert domain_state(QEMU_URI, other) is None
    # The switch reconnects: rfvmA is not started again.
    ovs_vsctl("del-controller", "rfod5")
    watch.wait_for("switch 0000000000000005 down")
    ovs_vsctl("set-controller", "rfod5", watch.target)
    watch.wait_for("rfvmA: already running")
    assert watch.text.count("start issued") == 1
    assert "sent error" not in watch.text and "refused the slave role" not in watch.text, watch.text


def test_four_bridges_boot_the_four_vms_whatever_their_openflow_version(watch, bridges):
    for datapath_id, protocols in ((5, None), (6, "OpenFlow13"), (7, "OpenFlow10"), (8, "OpenFlow10,OpenFlow13")):
        bridges.add(datapath_id, watch.target, protocols=protocols)
    for name in RFTEST2_VMS:
        wait_until(lambda name=name: running(name), BOOT_TIMEOUT, f"{name} to run")
    watch.wait_for("switch 0000000000000007 up from 127.0.0.1")
    assert "(OpenFlow 1.0)" in watch.wait_for("switch 0000000000000007 up from")
    assert "(OpenFlow 1.3)" in watch.wait_for("switch 0000000000000006 up from")
    for datapath_id in (5, 6, 7, 8):  # 7 speaks only 1.0: the slave role through Open vSwitch's Nicira extension
        watch.wait_for(f"switch {datapath_id:016x}: rfconsole is a slave controller")
    assert "sent error" not in watch.text, watch.text
    assert watch.text.count("start issued") == 4, watch.text


def test_unmapped_switch_boots_nothing(watch, bridges):
    bridges.add(0x42, watch.target)
    watch.wait_for("switch 0000000000000042 up: mapped to no VM, nothing to do")
    time.sleep(1.0)
    for name in RFTEST2_VMS:
        assert domain_state(QEMU_URI, name) is None
    assert "start issued" not in watch.text


def test_garbage_client_then_a_real_switch_still_gets_served(watch, bridges):
    with socket.create_connection(("127.0.0.1", watch.port)) as garbage:
        garbage.sendall(b"GET / HTTP/1.1\r\nHost: rfconsole\r\n\r\n" + bytes(range(256)))
        garbage.settimeout(10)
        received = b""
        while chunk := garbage.recv(4096):
            received += chunk
    assert received.startswith(bytes([of.Version.OF13, of.Type.HELLO]))  # our HELLO, then the close
    watch.wait_for("not HELLO: not an OpenFlow switch")
    bridges.add(0x43, watch.target)
    watch.wait_for("switch 0000000000000043 up from")


class StandInController:
    """A plain TCP listener standing in for RFProxy: it speaks just enough OpenFlow 1.3 (HELLO,
    echo replies) to keep its switch, and asks to be master, as a real controller would."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.roles: list[int] = []
        self.datapath_ids: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def target(self) -> str:
        return f"tcp:127.0.0.1:{self.port}"

    def _accept(self) -> None:
        self.server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                connection, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by close()
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    @staticmethod
    def _read(connection: socket.socket) -> of.Message:
        def exactly(size: int) -> bytes:
            data = b""
            while len(data) < size:
                chunk = connection.recv(size - len(data))
                if not chunk:
                    raise ConnectionError("closed")
                data += chunk
            return data

        header = exactly(8)
        (length,) = struct.unpack_from("!H", header, 2)
        return of.decode(header + exactly(length - 8))

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.sendall(of.Hello(4, 1, frozenset({4})).encode())
                connection.sendall(of.FeaturesRequest(4, 2).encode())
                connection.sendall(of.RoleRequest(4, 3, of.Role.MASTER, 1).encode())
                while not self._stop.is_set():
                    message = self._read(connection)
                    if isinstance(message, of.EchoRequest):
                        connection.sendall(of.EchoReply(4, message.xid, message.data).encode())
                    elif isinstance(message, of.RoleRequest) and message.reply:
                        self.roles.append(message.role)
                    elif isinstance(message, of.FeaturesReply):
                        self.datapath_ids.append(message.datapath_id)
            except (ConnectionError, OSError, of.OpenFlowError):
                return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.server.close()


def test_the_real_controller_keeps_its_connection_and_stays_master(watch, bridges):
    rfproxy = StandInController()
    try:
        bridge = bridges.add(5, rfproxy.target, watch.target, protocols="OpenFlow13")
        wait_until(lambda: running("rfvmA"), BOOT_TIMEOUT, "rfvmA to run after switch 5 connected")
        watch.wait_for("switch 0000000000000005: rfconsole is a slave controller")
        wait_until(lambda: rfproxy.roles == [of.Role.MASTER], 10, "the stand-in to be granted master")

        def settled() -> bool:
            table = bridges.controllers(bridge)
            return table.get(rfproxy.target) == {"role": "master", "is_connected": "true"} and table.get(watch.target) == {
                "role": "slave",
                "is_connected": "true",
            }

        wait_until(settled, 20, f"Open vSwitch to report the stand-in master and rfconsole slave: {bridges.controllers(bridge)}")
        time.sleep(2.0)
        assert rfproxy.connections == 1, "the switch's connection to the real controller never dropped"
        assert rfproxy.datapath_ids == [5]
        assert settled()
    finally:
        rfproxy.close()


def test_on_demand_keeps_working_across_a_reset(watch, bridges, ondemand_workdir, base_image):
    """rfvmA, booted by its switch, is reset onto a fresh overlay under the running watch; the
    switch stays up, watch starts nothing twice, and after a destroy the switch boots it again."""
    from rfconsole.images import Images
    from rfconsole.model.domainxml import DomainDocument
    from rfconsole.store import Store
    from tests.integration.conftest import run_cli

    images = Images(ondemand_workdir)
    base, _ = images.register_base(base_image)
    overlay, _ = images.create_overlay(base, ondemand_workdir.image("h1.qcow2"))
    store = Store(ondemand_workdir)
    document = store.load("rfvmA")
    document.apply(document.spec().with_changes(image=overlay, image_kind=None))
    store.save(document, path=store.find("rfvmA"), overwrite=True)
    assert DomainDocument.read(store.find("rfvmA")).spec().image == overlay

    bridges.add(5, watch.target)
    wait_until(lambda: running("rfvmA"), BOOT_TIMEOUT, "rfvmA to run after switch 5 connected")
    watch.wait_for("rfvmA: running at +")

    reset = run_cli("--workdir", str(ondemand_workdir.root), "--connect", QEMU_URI, "reset", "rfvmA")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert "fresh overlay of" in reset.stdout
    assert running("rfvmA")
    assert watch.text.count("start issued") == 1, watch.text  # the reset's own start is not the watch's

    # On demand still works: the VM goes away, its switch reconnects, the watch boots it again.
    run_cli("--workdir", str(ondemand_workdir.root), "--connect", QEMU_URI, "destroy", "rfvmA")
    wait_until(lambda: not running("rfvmA"), BOOT_TIMEOUT, "rfvmA to stop")
    ovs_vsctl("del-controller", "rfod5")
    watch.wait_for("switch 0000000000000005 down")
    ovs_vsctl("set-controller", "rfod5", watch.target)
    wait_until(lambda: running("rfvmA"), BOOT_TIMEOUT, "rfvmA to run again after switch 5 reconnected")
    wait_until(lambda: watch.text.count("start issued") == 2, BOOT_TIMEOUT, "the watch's second start")
    assert "Traceback" not in watch.text


def test_rfvmE_made_with_its_csv_rows_boots_when_bridge_9_connects(ondemand_workdir, bridges, guest):
    """The fifth router: `xml new --preset rfvmE --routeflow-config` adds its rows to rftest2's CSV,
    and a real switch with datapath id 9 then boots it (its eth0 on dp0 here: there is no lxcbr0)."""
    csv_file = ondemand_workdir.root / "rftest2config.csv"
    made = run_cli(
        "--workdir", str(ondemand_workdir.root), "xml", "new", "--hypervisor", "qemu", "--preset", "rfvmE", "--no-image",
        "--management-bridge", "none", "--nic", f"bridge={DATA_BRIDGE},ovs,mac=02:e0:e0:e0:e0:e0", "--memory", str(GUEST_MEMORY_MIB),
        "--kernel", str(guest.kernel), "--initrd", str(guest.initrd), "--cmdline", guest.cmdline, "--routeflow-config", str(csv_file),
    )
    assert made.returncode == 0, made.stderr
    assert f"added 4 rows to {csv_file}: rfvmE serves switch 0000000000000009" in made.stdout
    assert csv_file.read_text().splitlines()[-4:] == [f"2E0E0E0E0E0,{port},0,9,{port}" for port in range(1, 5)]
    watch = Watch(ondemand_workdir)
    try:
        watch.wait_for("switch 0000000000000009 -> rfvmE")
        bridges.add(9, watch.target)
        wait_until(lambda: running("rfvmE"), BOOT_TIMEOUT, "rfvmE to run after switch 9 connected")
        watch.wait_for("rfvmE: defined from its XML")
        assert all(domain_state(QEMU_URI, name) is None for name in RFTEST2_VMS)
    finally:
        remove_test_bridges()
        code = watch.stop()
    assert code == 0 and "Traceback" not in watch.text, watch.text
