"""What the wizard asks of the lower layers: each function is one call into model, store or virt."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rfconsole.errors import RfconsoleError
from rfconsole.model import DomainSpec, Hypervisor, Problem, missing_files
from rfconsole.model import spec as models
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.errors import InvalidSpec, field_words
from rfconsole.model.kinds import Arch
from rfconsole.model.rftest2 import RFTEST2_PRESETS, preset_spec
from rfconsole.model.schema import schema_problems
from rfconsole.tui.context import ConsoleContext

NEW_VM_DEFAULT_NAME = "vm1"
# Specs are built as models.DomainSpec: the model of the field table as it is now (a test's copy of
# the table too, tests/unit/model/tables.py); DomainSpec names the type.


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
    own_file: Path | None = None  # what this wizard already saved (a define refused after the save)


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
            problems.extend(identity_problems(context, typed.spec, typed.host, typed.new_vm, typed.own_file))
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
    return models.DomainSpec(hypervisor=hypervisor, name=NEW_VM_DEFAULT_NAME, image=context.workdir.images_dir / f"{NEW_VM_DEFAULT_NAME}.img")


def merge_edits(defaults: DomainSpec, edited: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The user's edits that still hold on top of ``defaults`` (a new target or hypervisor's), and
    the model's problem with each edit that does not (those fields go back to the defaults)."""
    kept = dict(edited)
    dropped: list[Problem] = []
    base = defaults.model_dump(exclude={"image_kind"})  # judged again from the image kept
    while kept:
        try:
            models.DomainSpec(**{**base, **kept})
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


def identity_problems(context: ConsoleContext, spec: DomainSpec, host: str | None, new_vm: bool, own_file: Path | None = None) -> list[Problem]:
    """Name and id unique in XML/ (the store's clashes; ``own_file``, what this wizard saved
    already, does not count); a new VM's name also free on the host. (A slot's name on the host is
    the definition Save+define replaces, after asking: ``review_check``.)"""
    store = context.store
    target = store.path_for(spec.name)
    problems = []
    for clash in store.clashes(DomainDocument.from_spec(spec), own_file or target):
        field = "id" if "already has id" in clash else "name"
        problems.append(Problem(field, spec.id if field == "id" else spec.name, clash))
    if target.exists() and target != own_file:
        problems.append(Problem("name", spec.name, f"{target} already exists: edit it (e) or choose it in the rftest2 bring-up (a)"))
    if new_vm and host is not None and context.fleet.has_domain(spec.name, host=host):
        problems.append(Problem("name", spec.name, f"host {host} already has a domain named {spec.name}"))
    return problems


@dataclass(frozen=True)
class ReviewCheck:
    """What saving, defining and starting the wizard's VM would meet, found before anything is
    written (``review_check``): the Review step shows all of it, and the save buttons refuse
    what their action cannot do, with nothing saved."""

    missing_files: tuple[str, ...]  # the VM's files not there: a plain save is fine, the host's part is not
    files_stop_define: bool  # True: they stop Save+define too (a real host); False: only the start (test driver)
    define_refusals: tuple[str, ...]  # other reasons Save+define would be refused (a running domain)
    start_refusals: tuple[str, ...]  # other reasons the start would fail (more memory than the host has)
    replaces: str | None  # the host's definition of that name Save+define replaces, in words (None: none)

    def refusals(self, define: bool, start: bool) -> tuple[str, ...]:
        files_stop = (define and self.files_stop_define) or start
        return (self.missing_files if files_stop else ()) + (self.define_refusals if define else ()) + (self.start_refusals if start else ())

    def lines(self) -> list[str]:
        """All of it, a line each, for the Review step."""
        blocked = "Save+define and Save+define+start wait" if self.files_stop_define else "Save+define+start waits"
        lines = [f"⚠ {words}: Save writes the XML anyway; {blocked} until it is there" for words in self.missing_files]
        lines += [f"✗ Save+define: {words}" for words in self.define_refusals]
        lines += [f"✗ Save+define+start: {words}" for words in self.start_refusals]
        if self.replaces:
            lines.append(f"⚠ Save+define replaces {self.replaces}; it asks first")
        return lines


def review_check(context: ConsoleContext, spec: DomainSpec, host: str | None, base: Path | None) -> ReviewCheck:
    """Every problem the save buttons would meet (asks the host: call it off the UI thread): the
    files the VM needs (an overlay of ``base`` comes with the save), the host's memory, and the
    host's own definition of the name, which Save+define would replace."""
    files = tuple(
        f"{field_words(problem.field)} {problem.value}: {problem.message}"
        for problem in missing_files(spec) if not (base is not None and problem.field == "image")
    )
    define_refusals: list[str] = []
    start_refusals: list[str] = []
    replaces = None
    if host is not None:
        memory = context.fleet.host(host).memory_mib()
        if memory and spec.memory and spec.memory > memory:
            start_refusals.append(f"memory {spec.memory} MiB is more than host {host} has ({memory} MiB)")
        existing = context.fleet.status(spec.name, host=host)
        if existing is not None:
            replaces = (
                f"host {host}'s definition of {spec.name}: {existing.hypervisor.value if existing.hypervisor else '?'}, "
                f"{existing.vcpus} vCPU, {existing.memory_mib} MiB, {existing.state.value}"
                + ("" if existing.owned else ", not made by rfconsole")
            )
            if existing.state.is_active:
                define_refusals.append(f"{spec.name} is {existing.state.value} on host {host}: a running domain is never replaced; shut it down first")
    # libvirt's test driver defines a VM without its files and never starts one without them
    return ReviewCheck(files, spec.hypervisor is not Hypervisor.TEST, tuple(define_refusals), tuple(start_refusals), replaces)


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
        spec = models.DomainSpec(hypervisor=Hypervisor.TEST, name="probe", image=Path(text))
    except InvalidSpec as invalid:  # the field's own error shows on Next
        return invalid.message
    problems = missing_files(spec)
    return f"⚠ {problems[0].message}" if problems else "✓ the file exists"


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


@dataclass(frozen=True)
class Saved:
    """What ``save_define_start`` did: the file (and what it holds, for the next save over it),
    and the define/start's refusal when only the save went through."""

    path: Path
    version: str
    problem: RfconsoleError | None = None


def save_define_start(
    context: ConsoleContext, spec: DomainSpec, host: str | None, *, define: bool, start: bool, base: Path | None = None,
    replace: bool = False, own: Saved | None = None,
) -> Saved:
    """Save to XML/ (with ``base``, with its overlay at the image path, all or none: docs/images.md; over
    ``own``, the file this wizard saved before, if the name is the same), then define (``replace``:
    over the host's definition of that name, which the user agreed to lose) and start as asked. A
    refusal of the define or start comes back in ``Saved.problem``: the file stays saved."""
    from rfconsole.images import Images
    from rfconsole.store import file_version
    from rfconsole.transaction import NewVM, write_new_vm

    document = DomainDocument.from_spec(spec)
    over_own = own is not None and own.path == context.store.path_for(spec.name)
    with_overlay = base is not None and not (over_own and Path(str(spec.image)).exists())
    if with_overlay and (spec.hypervisor.is_container or spec.image is None):
        raise RfconsoleError("an overlay of a base is a VM's disk: an LXC container's root is a folder, and the VM needs an image path")
    # the overlay and the XML all or none, every refusal first (rfconsole/transaction.py)
    written = write_new_vm(
        context.store,
        Images(context.workdir),
        NewVM(
            document,
            path=own.path if over_own and own is not None else None,
            overwrite=over_own,
            based_on=own.version if over_own and own is not None else None,
            base=base if with_overlay else None,
            overlay=spec.image if with_overlay else None,
        ),
    )
    path = written.xml or context.store.path_for(spec.name)  # always a file of XML/ here (nothing printed)
    saved = Saved(path, file_version(document.to_bytes()))
    try:
        if define:
            context.fleet.define(document, host=host, force=replace)
        if start:
            context.fleet.start(spec.name, host=host)
    except RfconsoleError as error:
        return Saved(saved.path, saved.version, error)
    return saved
