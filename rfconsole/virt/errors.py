"""The virt layer's errors: libvirt's own message, its error code, and what the user can do.

``translate`` turns a ``libvirt.libvirtError`` into one of these; nothing above rfconsole/virt/
ever sees a libvirt exception.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import libvirt

from rfconsole.errors import RfconsoleError


def unreachable_hint(uri: str) -> str:
    """What a user does when the host of ``uri`` does not answer: start its libvirtd (Debian's
    unit), or fix the URI. A remote URI names the machine to do it on."""
    parts = urlsplit(uri)
    machine = parts.hostname
    if not machine:
        return "is libvirtd running on this machine? start it: sudo systemctl start libvirtd (Debian); or check the URI"
    units = "libvirtd libvirtd-tcp.socket" if parts.scheme.endswith("+tcp") else "libvirtd"
    port = f" and port {parts.port}" if parts.port else ""
    return f"is libvirtd running on {machine}? there: sudo systemctl start {units} (Debian); or check the URI's machine{port}"


class VirtError(RfconsoleError):
    """A libvirt operation failed; ``libvirt_message`` and ``code`` are libvirt's own. ``host`` and
    ``domain`` name where (when known), and the class is the kind: callers read these, never the
    message's words."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        code: int | None = None,
        libvirt_message: str | None = None,
        host: str | None = None,
        domain: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.code = code
        self.libvirt_message = libvirt_message
        self.host = host
        self.domain = domain

    @property
    def kind(self) -> str:
        """The kind in a word: "HostUnavailable", "DomainNotFound" … (the class's name)."""
        return type(self).__name__


class HostUnavailable(VirtError):
    """The host's libvirt cannot be reached (no daemon, connection lost, access refused)."""


class ReadOnlyRefused(VirtError):
    """A change asked of a read-only connection (``--read-only``): libvirt refused it, nothing changed."""


class DomainNotFound(VirtError):
    """The host has no domain of that name."""


class NotOwned(VirtError):
    """A destructive operation on a domain without rfconsole's ownership mark, and no force."""


class HypervisorUnavailable(VirtError):
    """The host cannot run the hypervisor the XML asks for (checked before anything is touched)."""


class OperationInvalid(VirtError):
    """The domain is in the wrong state for the operation (already running, not running …)."""


class InvalidDefinition(VirtError):
    """libvirt refused the domain XML (validation, unsupported configuration)."""


class MissingFiles(VirtError):
    """A host file the VM needs (image, kernel, initrd) is missing; nothing was touched."""


class OperationTimeout(VirtError):
    """The domain did not reach the wanted state in time."""


class SnapshotNotFound(VirtError):
    """The domain has no snapshot of that name (or none at all)."""


class ConsoleNotRunning(OperationInvalid):
    """A console was asked of a domain that is not running (its console exists only while it runs)."""


class ConsoleBusy(VirtError):
    """Another client holds the domain's console (opened with libvirt's SAFE flag, without FORCE)."""


class ConsoleUnavailable(VirtError):
    """The domain has no console rfconsole can open (no console device, or a driver without consoles)."""


_UNREACHABLE = {
    libvirt.VIR_ERR_NO_CONNECT,
    libvirt.VIR_ERR_RPC,
    libvirt.VIR_ERR_INVALID_CONN,
}
# A system error is the connection's only when the RPC layer raised it ("unable to connect to server
# at '127.0.0.1:1': Connection refused"); the drivers raise it too, for the host's own devices
# ("Cannot get interface MTU on 'dp0': No such device": a missing bridge, libvirtd answering fine).
_CONNECTION_ERROR_DOMAINS = {libvirt.VIR_FROM_RPC, libvirt.VIR_FROM_REMOTE}
# What libvirt says when a NIC's bridge is missing or is not what the XML says (measured on libvirt
# 9.0 starting a QEMU domain): no such device at all (Linux or Open vSwitch bridge alike); a device
# that is no Open vSwitch bridge under <virtualport type='openvswitch'/>; one that is no Linux bridge.
_NO_BRIDGE = re.compile(r"Cannot get interface MTU on '([^']+)': No such device")
_NOT_OVS_BRIDGE = re.compile(r"Unable to add port \S+ to OVS bridge (\S+)")
_NOT_LINUX_BRIDGE = re.compile(r"Unable to add bridge (\S+) port \S+")


def _bridge_hint(said: str, host: str) -> str | None:
    """The real cause of a NIC that could not be plugged in, naming the bridge; None for other messages."""
    if found := _NO_BRIDGE.search(said):
        bridge = found.group(1)
        return (f"`{bridge}` does not exist on host {host}: create it with ovs-vsctl add-br {bridge} (an Open vSwitch "
                f"bridge, as rftest2's dp0), or ip link add {bridge} type bridge; or change the NIC's source in the XML")
    if found := _NOT_OVS_BRIDGE.search(said):
        bridge = found.group(1)
        return (f"`{bridge}` is not an Open vSwitch bridge on host {host} (or ovs-vswitchd is not running): "
                f"create it with ovs-vsctl add-br {bridge}, or drop the NIC's <virtualport type='openvswitch'/>")
    if found := _NOT_LINUX_BRIDGE.search(said):
        bridge = found.group(1)
        return (f"`{bridge}` is not a Linux bridge on host {host}: for an Open vSwitch bridge give the NIC "
                f"<virtualport type='openvswitch'/>, else create one with ip link add {bridge} type bridge")
    return None

_ACCESS = {
    libvirt.VIR_ERR_AUTH_FAILED,
    libvirt.VIR_ERR_AUTH_CANCELLED,
    libvirt.VIR_ERR_AUTH_UNAVAILABLE,
    libvirt.VIR_ERR_ACCESS_DENIED,
    libvirt.VIR_ERR_OPERATION_DENIED,
}
_DEFINITION = {
    libvirt.VIR_ERR_XML_ERROR,
    libvirt.VIR_ERR_XML_DETAIL,
    libvirt.VIR_ERR_XML_INVALID_SCHEMA,
    libvirt.VIR_ERR_CONFIG_UNSUPPORTED,
}
_CLOSED_CONNECTION_WORDS = ("client socket is closed", "connection closed", "cannot recv data", "end of file while reading")


def translate(error: libvirt.libvirtError, doing: str, host: str, uri: str, domain: str | None = None, *,
              read_only: bool = False) -> VirtError:
    """Our exception for ``error`` raised while ``doing`` (e.g. "start rfvmA") on ``host``, whose
    connection is ``read_only`` (libvirt's read-only connection, which refuses every change)."""
    code = error.get_error_code()
    said = error.get_error_message() or str(error)
    where = f"host {host} ({uri})"
    message = f"cannot connect to {where}: {said}" if doing == "connect" else f"cannot {doing} on {where}: {said}"
    details = {"code": code, "libvirt_message": said, "host": host, "domain": domain}
    lowered = said.lower()
    if uri.startswith("kvm:"):
        return HostUnavailable(
            message,
            "kvm:/// is not a libvirt URI: KVM guests live on qemu:///system as <domain type='kvm'>; use --connect qemu:///system",
            **details,
        )
    connection_error = code == libvirt.VIR_ERR_SYSTEM_ERROR and (
        doing == "connect" or error.get_error_domain() in _CONNECTION_ERROR_DOMAINS
    )
    if (code in _UNREACHABLE or connection_error or code == libvirt.VIR_ERR_UNKNOWN_HOST
            or any(words in lowered for words in _CLOSED_CONNECTION_WORDS)):
        return HostUnavailable(message, unreachable_hint(uri), **details)
    bridge_hint = _bridge_hint(said, host)
    if bridge_hint is not None:
        return VirtError(message, bridge_hint, **details)
    if read_only and code == libvirt.VIR_ERR_OPERATION_DENIED:
        return ReadOnlyRefused(
            f"cannot {doing} on {where}: this session is read-only (rfconsole --read-only) and changes nothing",
            "start rfconsole without --read-only to change domains", **details,
        )
    if code in _ACCESS:
        return HostUnavailable(
            message,
            "run rfconsole as a user libvirt lets in (root, or the libvirt group); for qemu+ssh:// check the SSH key and the remote user",
            **details,
        )
    if code == libvirt.VIR_ERR_NO_DOMAIN:
        name = domain or "that name"
        return DomainNotFound(
            f"host {host} ({uri}) has no domain named {name}",
            f"define it from XML/ first: rfconsole define {domain}" if domain else None,
            **details,
        )
    if code == libvirt.VIR_ERR_OPERATION_INVALID:
        return OperationInvalid(message, "see `rfconsole status` for the domain's state", **details)
    if code in _DEFINITION or (code == libvirt.VIR_ERR_INVALID_ARG and doing.startswith("define")):
        return InvalidDefinition(
            message, "check the file with `rfconsole xml validate`; libvirt's message above names what it refused", **details
        )
    if code == libvirt.VIR_ERR_NO_SUPPORT:
        return VirtError(message, f"the libvirt driver of host {host} does not offer this operation", **details)
    if code == libvirt.VIR_ERR_OPERATION_TIMEOUT:
        return OperationTimeout(message, "the hypervisor is busy or stuck; try again, or destroy the domain", **details)
    return VirtError(message, **details)
