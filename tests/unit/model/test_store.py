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
    (store.xml_dir / "rules.xml").write_text("<domain type='xen'><name>r</name><memory>1</memory></domain>")
    (store.xml_dir / "notes.txt").write_text("not listed")
    entries = {entry.path.name: entry for entry in store.entries()}
    assert set(entries) == {"good.xml", "broken.xml", "rules.xml"}
    assert entries["good.xml"].ok and entries["good.xml"].spec.name == "good"
    assert isinstance(entries["broken.xml"].error, XMLInputError) and not entries["broken.xml"].ok
    assert entries["broken.xml"].name == "broken"
    assert "hypervisor" in str(entries["rules.xml"].problem) and entries["rules.xml"].document is not None
    assert set(store.specs()) == {"good"}


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
    assert sorted(os.listdir(store.xml_dir)) == [".backup", "a.xml"]


def test_missing_files_for_the_virt_layer(store, tmp_path):
    store.save(document("a", 1))
    [problem] = store.missing_files("a")
    assert problem.field == "image" and "does not exist" in problem.message
