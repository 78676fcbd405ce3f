"""The virt layer's errors: libvirt's own message, its error code, and what the user can do.

``translate`` turns a ``libvirt.libvirtError`` into one of these; nothing above rfconsole/virt/
ever sees a libvirt exception.
"""

from __future__ import annotations

import libvirt

from rfconsole.errors import RfconsoleError

DAEMON_HINT = "is libvirtd running? start it with scripts/daemons.sh start (or check the URI)"


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
    libvirt.VIR_ERR_SYSTEM_ERROR,
    libvirt.VIR_ERR_RPC,
    libvirt.VIR_ERR_INVALID_CONN,
}
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


def translate(error: libvirt.libvirtError, doing: str, host: str, uri: str, domain: str | None = None) -> VirtError:
    """Our exception for ``error`` raised while ``doing`` (e.g. "start rfvmA") on ``host``."""
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
    if code in _UNREACHABLE or code == libvirt.VIR_ERR_UNKNOWN_HOST or any(words in lowered for words in _CLOSED_CONNECTION_WORDS):
        return HostUnavailable(message, DAEMON_HINT, **details)
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
