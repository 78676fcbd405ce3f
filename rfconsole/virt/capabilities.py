"""Which hypervisors a host really runs, from libvirt's capabilities and domain capabilities.

Device nodes prove nothing (on these machines /dev/kvm exists and KVM guests still do not run):
a hypervisor counts when libvirt lists guests for it, and for KVM when libvirt's domain
capabilities for ``kvm`` can be produced as well.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rfconsole.model.kinds import OS_TYPE_FOR, Hypervisor
from rfconsole.model.safexml import parse_untrusted


@dataclass(frozen=True)
class HostCapabilities:
    """The hypervisors of one host, each with its architectures, and why the others are missing."""

    host: str
    driver: str  # libvirt's driver name: QEMU, LXC, TEST …
    archs: dict[Hypervisor, frozenset[str]] = field(default_factory=dict)
    reasons: dict[Hypervisor, str] = field(default_factory=dict)
    host_arch: str | None = None  # the machine's own (<host><cpu><arch>)

    @property
    def hypervisors(self) -> set[Hypervisor]:
        return set(self.archs)

    def archs_for(self, hypervisor: Hypervisor) -> list[str]:
        """The architectures of ``hypervisor``'s guests here, the machine's own first."""
        offered = self.archs.get(hypervisor, frozenset())
        return sorted(offered, key=lambda arch: (arch != self.host_arch, arch))

    def reason(self, hypervisor: Hypervisor) -> str:
        """Why ``hypervisor`` cannot run here; '' when it can."""
        if hypervisor in self.archs:
            return ""
        return self.reasons.get(hypervisor) or (
            f"host {self.host} ({self.driver} driver) offers no {hypervisor} guests"
            + (f"; it runs {', '.join(sorted(h.value for h in self.archs))}" if self.archs else "")
        )


def parse_capabilities(
    host: str, driver: str, capabilities_xml: str, kvm_probe: Callable[[str], str | None]
) -> HostCapabilities:
    """Read libvirt's ``<capabilities>``; ``kvm_probe(arch)`` returns None when KVM works for that
    arch (domain capabilities could be produced) or libvirt's reason when it does not."""
    tree = parse_untrusted(capabilities_xml, f"capabilities of host {host}")
    found: dict[Hypervisor, set[str]] = {}
    for guest in tree.getroot().iterfind("guest"):
        os_type = (guest.findtext("os_type") or "").strip()
        arch_element = guest.find("arch")
        if arch_element is None:
            continue
        arch = arch_element.get("name") or "?"
        for domain in arch_element.iterfind("domain"):
            try:
                hypervisor = Hypervisor((domain.get("type") or "").strip())
            except ValueError:
                continue
            if OS_TYPE_FOR[hypervisor].value != os_type:
                continue
            found.setdefault(hypervisor, set()).add(arch)
    reasons: dict[Hypervisor, str] = {}
    if Hypervisor.KVM in found:
        usable = set()
        refusals = []
        for arch in sorted(found[Hypervisor.KVM]):
            refusal = kvm_probe(arch)
            if refusal is None:
                usable.add(arch)
            else:
                refusals.append(f"{arch}: {refusal}")
        if usable:
            found[Hypervisor.KVM] = usable
        else:
            del found[Hypervisor.KVM]
            reasons[Hypervisor.KVM] = f"host {host}: libvirt cannot run KVM guests here ({'; '.join(refusals)}); use qemu (TCG) instead"
    elif Hypervisor.QEMU in found:
        reasons[Hypervisor.KVM] = f"host {host}: libvirt lists no KVM guests (no usable hardware virtualisation); use qemu (TCG) instead"
    if Hypervisor.LXC not in found and driver.upper() == "QEMU":
        reasons[Hypervisor.LXC] = f"host {host} is a QEMU host; LXC containers live on an lxc:// host such as lxc:///system"
    host_arch = (tree.getroot().findtext("host/cpu/arch") or "").strip() or None
    return HostCapabilities(host, driver, {hypervisor: frozenset(archs) for hypervisor, archs in found.items()}, reasons, host_arch)
