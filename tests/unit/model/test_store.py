"""The XML/ folder: listing with broken files, atomic saves, no silent overwrite, backups, uniqueness."""

import os

import pytest

from rfconsole.model import DomainSpec
from rfconsole.model.domainxml import DomainDocument
from rfconsole.model.errors import XMLInputError
from rfconsole.store import Store, StoreError, Workdir


def document(name="a", id=1, **extra):
    return DomainDocument.from_spec(DomainSpec(hypervisor="qemu", name=name, id=id, image="/srv/a.img", **extra))


@pytest.fixture
def store(tmp_path):
    return Store(Workdir(tmp_path))


def test_workdir_layout(tmp_path):
    workdir = Workdir(tmp_path)
    assert workdir.xml_dir == tmp_path / "XML"
    assert workdir.images_dir == tmp_path / "Images"
    assert workdir.config_path == tmp_path / "rfconsole.toml"
    assert workdir.image("h1.img") == tmp_path / "Images" / "h1.img"


def test_save_writes_xml_name_by_default_and_loads_back(store):
    path = store.save(document())
    assert path == store.xml_dir / "a.xml"
    assert store.load("a").spec() == document().spec()
    assert store.load(path).spec().name == "a"
    assert store.load("a.xml").name == "a"


def test_never_overwrites_without_the_flag_and_keeps_a_backup(store):
    path = store.save(document(vcpu=1))
    with pytest.raises(StoreError) as caught:
        store.save(document(vcpu=2))
    assert "already exists" in caught.value.message and "--force" in caught.value.hint
    assert store.load("a").spec().vcpu == 1
    store.save(document(vcpu=2), overwrite=True)
    assert store.load("a").spec().vcpu == 2
    [backup] = store.backups("a")
    assert backup.parent == store.xml_dir / ".backup"
    assert DomainDocument.read(backup).spec().vcpu == 1
    assert path.stat().st_mode & 0o777 == 0o644


def test_name_and_id_are_unique_across_the_folder(store):
    store.save(document("a", 1))
    with pytest.raises(StoreError, match="already has id 1"):
        store.save(document("b", 1))
    store.save(document("b", 2))
    # the same name under another file name is a clash too
    with pytest.raises(StoreError, match="already holds a VM named 'b'"):
        store.save(document("b", 3), path=store.xml_dir / "other.xml")
    # replacing a file does not clash with itself
    store.save(document("b", 2, vcpu=3), overwrite=True)
    assert store.suggest_id() == 3


def test_uniqueness_holds_however_the_path_into_xml_is_spelled(tmp_path):
    # `cd XML; rfconsole --workdir .. xml set rfvmA.xml name=rfvmB` and `-o XML/../XML/x.xml`
    (tmp_path / "XML").mkdir()
    (tmp_path / "XML" / "link").symlink_to(tmp_path / "XML")
    store = Store(Workdir(tmp_path / "XML" / ".."))
    store.save(document("a", 1))
    store.save(document("b", 2))
    for spelling in (tmp_path / "XML" / ".." / "XML" / "c.xml", tmp_path / "XML" / "link" / "c.xml"):
        with pytest.raises(StoreError, match="already holds a VM named 'a'"):
            store.save(document("a", 3), path=spelling)
        with pytest.raises(StoreError, match="already has id 2"):
            store.save(document("c", 2), path=spelling)
    # a file saved in place under another spelling does not clash with itself
    store.save(document("a", 1, vcpu=2), path=tmp_path / "XML" / ".." / "XML" / "a.xml", overwrite=True)
    assert store.load("a").spec().vcpu == 2
    assert [path.name for path in store.backups("a")] and not (tmp_path / ".backup").exists()

def test_outside_the_folder_there_is_no_uniqueness_check(store, tmp_path):
    store.save(document("a", 1))
    assert store.save(document("a", 1), path=tmp_path / "elsewhere.xml").exists()


def test_broken_files_are_listed_with_their_error(store):
    store.save(document("good", 1))
    (store.xml_dir / "broken.xml").write_text("<domain><name>x</name>")
    (store.xml_dir / "rules.xml").write_text("<domain type='kvm'><name>r</name><vcpu>many</vcpu><memory>1</memory></domain>")
    (store.xml_dir / "xen.xml").write_text("<domain type='xen'><name>foo=1,bar=2</name><memory>1</memory><os><type>linux</type></os></domain>")
    (store.xml_dir / "notes.txt").write_text("not listed")
    entries = {entry.path.name: entry for entry in store.entries()}
    assert set(entries) == {"good.xml", "broken.xml", "rules.xml", "xen.xml"}
    assert entries["good.xml"].ok and entries["good.xml"].spec.name == "good"
    assert isinstance(entries["broken.xml"].error, XMLInputError) and not entries["broken.xml"].ok
    assert entries["broken.xml"].name == "broken"
    assert "vcpu" in str(entries["rules.xml"].problem) and entries["rules.xml"].document is not None
    assert entries["xen.xml"].ok  # libvirt accepts it, so it is read (rfconsole would not create it)
    assert set(store.specs()) == {"good", "foo=1,bar=2"}


def test_lookup_by_domain_name_when_the_file_is_named_otherwise(store):
    store.save(document("rfvmA", 1), path=store.xml_dir / "first-router.xml")
    assert store.find("rfvmA") == store.xml_dir / "first-router.xml"
    assert store.load("rfvmA").name == "rfvmA"
    with pytest.raises(StoreError, match="no VM named 'nobody'"):
        store.load("nobody")


def test_a_save_replaces_the_file_by_rename_never_in_place(store):
    path = store.save(document("a", 1))
    before = path.read_bytes()
    inode = path.stat().st_ino
    with open(path, "rb") as reader_of_the_old_file:
        store.save(document("a", 1, vcpu=4), overwrite=True)
        # a reader holding the old file still sees it whole: the new one is a new inode
        assert reader_of_the_old_file.read() == before
    assert path.stat().st_ino != inode
    assert DomainDocument.read(path).spec().vcpu == 4


def test_an_impossible_write_is_a_clear_error(store, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot write"):
        store.save(document("a", 1), path=blocker / "a.xml")


def test_no_temporary_file_is_left_after_saves(store):
    for vcpu in range(1, 4):
        store.save(document("a", 1, vcpu=vcpu), overwrite=True)
    assert sorted(os.listdir(store.xml_dir)) == [".backup", ".rfconsole.lock", "a.xml"]


def test_missing_files_for_the_virt_layer(store, tmp_path):
    store.save(document("a", 1))
    [problem] = store.missing_files("a")
    assert problem.field == "image" and "does not exist" in problem.message


# ---------------------------------------------------------------- what a save may touch
def test_a_file_changed_since_it_was_read_is_not_overwritten(store):
    path = store.save(document("a", 1, vcpu=1))
    mine = store.load("a")
    theirs = Store(store.workdir)  # another console or command on the same folder
    other = theirs.load("a")
    other.apply(other.spec().with_changes(vcpu=2))
    theirs.save(other, overwrite=True)
    mine.apply(mine.spec().with_changes(memory=1024))
    with pytest.raises(StoreError) as caught:
        store.save(mine, overwrite=True)
    assert str(path) in caught.value.message and "changed since it was read" in caught.value.message
    assert store.load("a").spec().vcpu == 2  # their change kept
    again = store.load("a")  # read again, redo: saved, and saved again from the same document
    again.apply(again.spec().with_changes(memory=1024))
    store.save(again, overwrite=True)
    again.apply(again.spec().with_changes(memory=2048))
    store.save(again, overwrite=True)
    assert (store.load("a").spec().vcpu, store.load("a").spec().memory) == (2, 2048)


def test_an_editor_saves_against_the_version_it_read(store):
    path = store.save(document("a", 1))
    data, version = store.read_file(path)
    path.write_bytes(data.replace(b"<vcpu>1</vcpu>", b"<vcpu>3</vcpu>"))
    with pytest.raises(StoreError, match="changed since it was read"):
        store.save(DomainDocument.parse(data), path=path, overwrite=True, based_on=version)
    _, version = store.read_file(path)
    store.save(DomainDocument.parse(data), path=path, overwrite=True, based_on=version)


def test_a_new_file_is_created_exclusively(store, monkeypatch):
    """A file that appears between the check and the write (another process) is never replaced."""
    import rfconsole.store._files as module

    real_fill = module.fill

    def someone_else_writes_first(handle, temporary, data, like):
        (store.xml_dir / "a.xml").write_text("theirs")
        real_fill(handle, temporary, data, like)

    monkeypatch.setattr(module, "fill", someone_else_writes_first)
    with pytest.raises(StoreError, match="appeared while rfconsole was writing it"):
        store.save(document("a", 1))
    assert (store.xml_dir / "a.xml").read_text() == "theirs"
    assert [name for name in os.listdir(store.xml_dir) if name.endswith(".tmp")] == []


def test_suggested_ids_are_taken_under_the_lock_and_the_lock_is_reentrant(store):
    with store.locked():
        with store.locked():
            store.save(document("a", store.suggest_id()))
        store.save(document("b", store.suggest_id()))
    assert [entry.rfconsole_id for entry in store.entries()] == [1, 2]


def test_the_lock_is_held_against_other_processes(store):
    import fcntl
    import subprocess
    import sys

    with store.locked():
        probe = subprocess.run(
            [sys.executable, "-c", "import fcntl,sys; f=open(sys.argv[1],'rb'); fcntl.flock(f, fcntl.LOCK_EX|fcntl.LOCK_NB)",
             str(store.xml_dir / ".rfconsole.lock")],
            capture_output=True, text=True, timeout=30,
        )
        assert probe.returncode != 0 and "BlockingIOError" in probe.stderr
    with open(store.xml_dir / ".rfconsole.lock", "rb") as free:
        fcntl.flock(free, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_mode_and_owner_are_kept_on_the_file_and_its_backup(store):
    path = store.save(document("a", 1))
    os.chmod(path, 0o600)
    os.chown(path, 4321, 4322)  # the tests run as root, as CI does
    store.save(document("a", 1, vcpu=2), overwrite=True)
    [backup] = store.backups("a")
    for kept in (path, backup):
        status = kept.stat()
        assert (status.st_mode & 0o7777, status.st_uid, status.st_gid) == (0o600, 4321, 4322), kept


def test_a_symbolic_link_in_xml_is_never_written_through_unless_named(store, tmp_path):
    """issue 16 item 6: `xml new --force` over XML/NAME.xml, a link to another file, replaced that file."""
    elsewhere = tmp_path / "notes.txt"
    elsewhere.write_text("the user's own notes\n")
    store.xml_dir.mkdir()
    link = store.xml_dir / "rfvmA.xml"
    link.symlink_to(elsewhere)
    for attempt in (lambda: store.save(document("rfvmA", 1), overwrite=True), lambda: store.check_save(document("rfvmA", 1), overwrite=True)):
        with pytest.raises(StoreError, match="is a symbolic link to .*notes.txt.*only when you name the link itself"):
            attempt()
    assert elsewhere.read_text() == "the user's own notes\n" and link.is_symlink()
    assert not store.workdir.backup_dir.exists() and sorted(os.listdir(tmp_path)) == ["XML", "notes.txt"]


def test_a_symbolic_link_the_user_names_is_written_through_to_its_target(store, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "rfvmA.xml"
    target.write_bytes(document("rfvmA", 1).to_bytes())
    os.chmod(target, 0o640)
    store.xml_dir.mkdir()
    link = store.xml_dir / "rfvmA.xml"
    link.symlink_to(target)
    changed = store.load("rfvmA")
    changed.apply(changed.spec().with_changes(vcpu=3))
    with pytest.raises(StoreError, match="symbolic link"):
        store.save(changed, overwrite=True)
    assert store.save(changed, path=link, overwrite=True, through_link=True) == link
    assert link.is_symlink() and os.readlink(link) == str(target)  # the link is still a link …
    assert DomainDocument.read(target).spec().vcpu == 3  # … and its target has the change
    assert target.stat().st_mode & 0o777 == 0o640
    assert [name for name in os.listdir(shared) if name != "rfvmA.xml"] == []  # no temporary left there
    [backup] = store.backups("rfvmA")
    assert DomainDocument.read(backup).spec().vcpu == 1


def test_a_link_to_nothing_is_refused(store, tmp_path):
    store.xml_dir.mkdir()
    (store.xml_dir / "a.xml").symlink_to(tmp_path / "gone.xml")
    with pytest.raises(StoreError, match="symbolic link to .*does not exist"):
        store.save(document("a", 1), overwrite=True, through_link=True)
    assert not (tmp_path / "gone.xml").exists()


@pytest.mark.parametrize("kind", ["character device", "FIFO", "folder", "link to a device"])
def test_only_regular_files_are_ever_replaced(store, tmp_path, kind):
    target = tmp_path / "target"
    if kind == "character device":
        os.mknod(target, 0o600 | __import__("stat").S_IFCHR, os.makedev(1, 3))  # /dev/null's numbers
    elif kind == "FIFO":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    else:
        target.symlink_to("/dev/null")
    before = os.lstat(target)
    with pytest.raises(StoreError) as caught:
        store.save(document("a", 1), path=target, overwrite=True, through_link=True)
    assert "not a regular file" in caught.value.message or "is a folder" in caught.value.message
    after = os.lstat(target)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (before.st_mode, before.st_ino, before.st_rdev)


def test_a_fifo_in_xml_is_refused_at_once_not_waited_on(store):
    store.xml_dir.mkdir()
    os.mkfifo(store.xml_dir / "a.xml")
    with pytest.raises(XMLInputError, match="FIFO"):
        store.load("a.xml")
    with pytest.raises(XMLInputError, match="FIFO"):
        store.read_file(store.xml_dir / "a.xml")
    assert store.entries() == []


def test_a_file_rfconsole_could_not_read_back_is_not_written(store):
    from rfconsole.model import Interface

    nics = [Interface(bridge=f"br{index}", target_dev=f"t{index}") for index in range(20000)]
    with pytest.raises(StoreError, match="more than rfconsole reads back"):
        store.save(document("a", 1, interfaces=nics))
    assert not (store.xml_dir / "a.xml").exists()


def test_a_name_too_long_for_the_file_system_is_a_clear_error(store):
    with pytest.raises(StoreError, match="File name too long"):
        store.save(document("a", 1), path=store.xml_dir / ("x" * 300 + ".xml"))


def test_xml_set_on_a_latin1_file_that_would_grow_past_the_limit_writes_nothing(store, capsys):
    """1 MB of Latin-1 becomes more than 1 MiB of UTF-8: refused before writing, file unchanged."""
    from rfconsole.cli import main

    store.xml_dir.mkdir()
    body = document("a", 1).to_xml().split("\n", 1)[1] if document("a", 1).to_xml().startswith("<?xml") else document("a", 1).to_xml()
    comment = "<!-- " + "é" * 1_000_000 + " -->\n"
    latin1 = ('<?xml version="1.0" encoding="ISO-8859-1"?>\n' + comment + body).encode("latin-1")
    assert len(latin1) < 1024 * 1024
    path = store.xml_dir / "a.xml"
    path.write_bytes(latin1)
    assert main(["--workdir", str(store.workdir.root), "xml", "set", "a", "vcpu=2"]) == 1
    assert "more than rfconsole reads back" in capsys.readouterr().err
    assert path.read_bytes() == latin1


def test_a_change_is_detected_however_the_folder_is_reached(tmp_path):
    """Through a symbolic link to the working folder, the same file is still the same file."""
    (tmp_path / "real").mkdir()
    real = Store(Workdir(tmp_path / "real"))
    real.save(document("a", 1))
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    mine = Store(Workdir(tmp_path / "alias"))
    loaded = mine.load("a")
    theirs = real.load("a")
    theirs.apply(theirs.spec().with_changes(vcpu=2))
    real.save(theirs, overwrite=True)
    loaded.apply(loaded.spec().with_changes(memory=64))
    with pytest.raises(StoreError, match="changed since it was read"):
        mine.save(loaded, overwrite=True)


# ------------------------------------------------------------------ RouteFlow's CSV: rows appended as saves are made
def _rows(vm: str, tmp_path, datapath_id=None):
    from rfconsole.model.rftest2 import preset_spec, routeflow_rows

    return routeflow_rows(preset_spec(vm, "qemu", tmp_path), datapath_id)


def test_routeflow_rows_go_through_a_link_keep_the_mode_and_are_checked_first(store, tmp_path):
    real = tmp_path / "routeflow" / "rftest2.csv"
    real.parent.mkdir()
    real.write_bytes(b"vm_id,vm_port,ct_id,dp_id,dp_port\n2A0A0A0A0A0,1,0,5,1\n")
    real.chmod(0o600)
    link = tmp_path / "config.csv"
    link.symlink_to(real)
    rows = _rows("rfvmE", tmp_path)
    assert store.check_routeflow_rows(link, rows) == rows and real.read_bytes().count(b"\n") == 2  # checked, not written
    assert store.add_routeflow_rows(link, rows) == rows
    assert link.is_symlink() and real.read_text().splitlines()[-1] == "2E0E0E0E0E0,4,0,9,4"
    assert os.stat(real).st_mode & 0o777 == 0o600
    assert store.add_routeflow_rows(link, rows) == []
    assert [path.name for path in real.parent.iterdir()] == ["rftest2.csv"]  # no temporary file left


def test_routeflow_csv_that_is_not_a_regular_file_is_refused(store, tmp_path):
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    with pytest.raises(StoreError, match="fifo.csv is a FIFO"):
        store.add_routeflow_rows(fifo, _rows("rfvmE", tmp_path))
    (tmp_path / "gone.csv").symlink_to(tmp_path / "nothing.csv")
    with pytest.raises(StoreError, match="link to .*nothing.csv, which does not exist"):
        store.add_routeflow_rows(tmp_path / "gone.csv", _rows("rfvmE", tmp_path))
    new = tmp_path / "new.csv"
    assert store.add_routeflow_rows(new, _rows("rfvmF", tmp_path)) and new.read_text().startswith("vm_id,vm_port,ct_id,dp_id,dp_port\n2F0F0F0F0F0,1,0,A,1\n")


def test_rows_added_at_once_by_many_writers_are_all_kept(tmp_path):
    import threading

    path = tmp_path / "rf.csv"
    path.write_text("vm_id,vm_port,ct_id,dp_id,dp_port\n")
    writers = [(vm, 0x100 + number) for number, vm in enumerate(["rfvmA", "rfvmB", "rfvmC", "rfvmD", "rfvmE", "rfvmF"])]
    errors = []

    def add(vm: str, datapath_id: int) -> None:
        try:
            Store(Workdir(tmp_path)).add_routeflow_rows(path, _rows(vm, tmp_path, datapath_id))  # a store each: as separate processes
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=add, args=writer) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    from rfconsole.model.rftest2 import read_routeflow_csv

    assert errors == []
    assert sorted(read_routeflow_csv(path).datapaths) == [datapath_id for _, datapath_id in writers]


@pytest.mark.parametrize("backup_folder", ["a link to a folder", "a file"])
def test_backups_never_land_outside_through_a_linked_backup_folder(store, tmp_path, backup_folder):
    """issue 16 item 6: XML/.backup a symbolic link made the backups land wherever it pointed."""
    outside = tmp_path / "outside"
    outside.mkdir()
    path = store.save(document(vcpu=1))
    if backup_folder == "a file":
        store.workdir.backup_dir.write_text("not a folder")
    else:
        store.workdir.backup_dir.symlink_to(outside)
    with pytest.raises(StoreError, match=r"cannot keep a backup in .*\.backup: it (is a symbolic link|is not a folder)"):
        store.save(document(vcpu=2), overwrite=True)
    assert os.listdir(outside) == [] and store.load(path).spec().vcpu == 1
    assert sorted(os.listdir(store.xml_dir)) == [".backup", ".rfconsole.lock", "a.xml"]  # no temporary left
