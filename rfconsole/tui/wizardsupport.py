"""What the wizard asks of the lower layers: each function is one call into model, store or virt."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rfconsole.errors import RfconsoleError
from rfconsole.model import DomainSpec, Hypervisor, Problem, missing_files
from rfconsole.model.kinds import Arch
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.errors import InvalidSpec
from rfconsole.model.rftest2 import RFTEST2_PRESETS, preset_spec
from rfconsole.model.schema import schema_problems
from rfconsole.tui.context import ConsoleContext

NEW_VM_DEFAULT_NAME = "vm1"


def host_names(context: ConsoleContext) -> list[str]:
    return list(context.fleet.host_names())


@dataclass(frozen=True)
class Typed:
    """What the wizard's steps hold, read on the UI thread; checked against the host on a worker."""

    host: str | None
    hypervisor: Hypervisor | None
    new_vm: bool
    spec: DomainSpec | None  # None when the model refused what was typed: ``invalid`` says why
    invalid: tuple[Problem, ...]


def hypervisors_offered(context: ConsoleContext, host: str | None) -> set[Hypervisor]:
    if host is None:
        return set()
    return set(context.fleet.host(host).capabilities())


def hypervisor_choices(context: ConsoleContext, host: str | None) -> tuple[set[Hypervisor], dict[Hypervisor, str]]:
    """The hypervisors the host offers, and why it does not offer each of the others (libvirt calls)."""
    offered = hypervisors_offered(context, host)
    if host is None:
        return offered, {}
    return offered, {h: context.fleet.host(host).unavailable_reason(h) for h in Hypervisor if h not in offered}


@dataclass(frozen=True)
class ArchChoices:
    archs: tuple[str, ...]  # the one to preselect first
    note: str  # where they come from, in words


def arch_choices(context: ConsoleContext, host: str | None, hypervisor: Hypervisor | None) -> ArchChoices:
    """The architectures ``host`` offers ``hypervisor``'s guests (its own first), from libvirt's
    capabilities (a libvirt call: off the UI thread); every arch libvirt knows only when no host
    is at hand (none chosen, or it cannot be asked)."""
    every = tuple(arch.value for arch in Arch)
    if host is None or hypervisor is None:
        return ArchChoices(every, "no host chosen: every architecture libvirt knows")
    try:
        offered = context.fleet.host(host).host_capabilities().archs_for(hypervisor)
    except RfconsoleError as error:
        return ArchChoices(every, f"host {host} cannot be asked ({error.message}): every architecture libvirt knows")
    if not offered:
        return ArchChoices(every, f"host {host} lists no {hypervisor.value} guests: every architecture libvirt knows")
    return ArchChoices(tuple(offered), f"what host {host} runs for {hypervisor.value} guests")


def _with_host_vcpu_limit(context: ConsoleContext, typed: Typed, problem: Problem) -> Problem:
    """A vCPU count out of range is told with this host's limit (the model knows only libvirt's 4096)."""
    if problem.field != "vcpu" or not str(problem.value).strip().isdigit():
        return problem
    limit = vcpu_limit(context, typed.host)
    if not limit:
        return problem
    return Problem("vcpu", problem.value, f"host {typed.host} allows 1 to {limit} vCPUs per VM")


def step_problems(context: ConsoleContext, index: int, typed: Typed) -> list[Problem]:
    """The problems of the wizard's steps up to ``index`` (the caller drops those of later steps,
    which still hold their defaults). Asks the host (capabilities, names, vCPU limit): call it off
    the UI thread."""
    problems: list[Problem] = []
    if typed.host is None:
        problems.append(Problem("host", None, "choose a host (add hosts in rfconsole.toml)"))
    if index >= 1 and not problems:
        offered = hypervisors_offered(context, typed.host)
        if typed.hypervisor is None:
            problems.append(Problem("hypervisor", None, "choose a hypervisor"))
        elif typed.hypervisor not in offered:
            problems.append(Problem("hypervisor", typed.hypervisor.value, f"host {typed.host} does not offer {typed.hypervisor.value}"))
    if index >= 2 and not problems:
        if typed.spec is None:
            problems.extend(_with_host_vcpu_limit(context, typed, problem) for problem in typed.invalid)
        else:
            problems.extend(identity_problems(context, typed.spec, typed.host, typed.new_vm))
            if index >= 4:
                problems.extend(resource_problems(context, typed.spec, typed.host))
    return problems


def vcpu_limit(context: ConsoleContext, host: str | None) -> int | None:
    return context.fleet.host(host).max_vcpus() if host else None


def defaults_for(context: ConsoleContext, target: str, hypervisor: Hypervisor | None, host: str | None) -> DomainSpec:
    """An rftest2 preset (a slot, or rfvmE/rfvmF), or a plain new VM: what the later steps start from."""
    hypervisor = hypervisor or Hypervisor.TEST
    if target in RFTEST2_PRESETS:
        return preset_spec(target, hypervisor, context.workdir)
    return DomainSpec(hypervisor=hypervisor, name=NEW_VM_DEFAULT_NAME, image=context.workdir.images_dir / f"{NEW_VM_DEFAULT_NAME}.img")


def merge_edits(defaults: DomainSpec, edited: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The user's edits that still hold on top of ``defaults`` (a new target or hypervisor's), and
    the model's problem with each edit that does not (those fields go back to the defaults)."""
    kept = dict(edited)
    dropped: list[Problem] = []
    base = defaults.model_dump(exclude={"image_kind"})  # judged again from the image kept
    while kept:
        try:
            DomainSpec(**{**base, **kept})
        except InvalidSpec as invalid:
            own = [problem for problem in invalid.problems if problem.field.split(".")[0] in kept]
            if not own:  # the problems are not the edits' (a later step judges them)
                break
            for problem in own:
                kept.pop(problem.field.split(".")[0], None)
            dropped.extend(own)
        else:
            break
    return kept, dropped


def suggest_id(context: ConsoleContext, target: str | None = None) -> int:
    """The CLI's rule too (Store.suggest_id): an rftest2 preset's own id when free, else the next free one."""
    return context.store.suggest_id(RFTEST2_PRESETS[target].default_id if target in RFTEST2_PRESETS else None)


def identity_problems(context: ConsoleContext, spec: DomainSpec, host: str | None, new_vm: bool) -> list[Problem]:
    """Name and id unique in XML/ (the store's clashes); a new VM's name also free on the host."""
    store = context.store
    target = store.path_for(spec.name)
    problems = []
    for clash in store.clashes(DomainDocument.from_spec(spec), target):
        field = "id" if "already has id" in clash else "name"
        problems.append(Problem(field, spec.id if field == "id" else spec.name, clash))
    if target.exists():
        problems.append(Problem("name", spec.name, f"{target} already exists: edit it (e) or choose it in the rftest2 bring-up (a)"))
    if new_vm and host is not None and context.fleet.has_domain(spec.name, host=host):
        problems.append(Problem("name", spec.name, f"host {host} already has a domain named {spec.name}"))
    return problems


def resource_problems(context: ConsoleContext, spec: DomainSpec, host: str | None) -> list[Problem]:
    limit = vcpu_limit(context, host)
    if limit and spec.vcpu > limit:
        return [Problem("vcpu", spec.vcpu, f"host {host} allows at most {limit} vCPUs per VM")]
    return []


def image_note(text: str) -> str:
    """A word under the image field: missing files are flagged, not refused (images often come later)."""
    if not text:
        return "no image: allowed for the test driver and direct kernel boot"
    try:
        spec = DomainSpec(hypervisor=Hypervisor.TEST, name="probe", image=text)
    except Exception as error:  # noqa: BLE001 - the field's own error shows on Next
        return getattr(error, "message", str(error))
    problems = missing_files(spec)
    return f"⚠ {problems[0].message}" if problems else "✓ the file exists"


def start_problems(spec: DomainSpec) -> list[Problem]:
    """Why the VM could not be started as it is: its image, kernel or initrd missing (Fleet refuses
    to start such a VM on any host, the demo's included)."""
    return [
        Problem(problem.field, problem.value, f"{problem.message}; a VM is not started without it (ctrl+s or ctrl+d save it unstarted)")
        for problem in missing_files(spec)
    ]


def images_root(context: ConsoleContext) -> Path:
    folder = context.workdir.images_dir
    return folder if folder.is_dir() else context.workdir.root


def render_xml(spec: DomainSpec) -> tuple[str, list[Problem]]:
    document = DomainDocument.from_spec(spec)
    return document.to_xml(), schema_problems(document)


def base_choices(context: ConsoleContext) -> list[tuple[str, str]]:
    """(name, path) of each registered base image (rfconsole image base): the storage step's choices."""
    from rfconsole.images import Images

    return [(path.stem, str(path)) for path in Images(context.workdir).bases()]


def overlay_path(context: ConsoleContext, image_text: str, name: str) -> Path:
    """Where the VM's overlay goes: Images/h1.qcow2 for an image h1.img, else Images/<name>.qcow2."""
    from rfconsole.images import Images, overlay_name_for

    return Images(context.workdir).overlay_path(overlay_name_for(image_text or f"{name}.img"))


def _create_overlay(context: ConsoleContext, spec: DomainSpec, document: DomainDocument, base: Path) -> Path:
    """The VM's overlay at its image path, every refusal (XML, overlay file) before anything is written."""
    from rfconsole.images import Images

    if spec.hypervisor.is_container or spec.image is None:
        raise RfconsoleError("an overlay of a base is a VM's disk: an LXC container's root is a folder, and the VM needs an image path")
    images = Images(context.workdir)
    context.store.check_save(document)
    images.check_overlay_target(spec.image)
    created, _ = images.create_overlay(base, spec.image)
    return created


def save_define_start(context: ConsoleContext, spec: DomainSpec, host: str | None, *, define: bool, start: bool, base: Path | None = None) -> Path:
    """Save to XML/ (with ``base``, first its overlay at the image path: docs/images.md), then
    define and start as asked."""
    document = DomainDocument.from_spec(spec)
    overlay = _create_overlay(context, spec, document, base) if base is not None else None
    try:
        path = context.store.save(document)
    except BaseException:
        if overlay is not None:
            overlay.unlink(missing_ok=True)
        raise
    if define:
        context.fleet.define(document, host=host)
    if start:
        context.fleet.start(spec.name, host=host)
    return path
