"""A domain without rfconsole's ownership mark is never destroyed, undefined or redefined
unless forced, and the refusal names the domain and the host. The ``foreign`` host's "test" is one."""

from __future__ import annotations

import pytest

from rfconsole.model.domainxml import DomainDocument
from rfconsole.virt.errors import NotOwned
from rfconsole.virt.events import DomainState


def foreign_test_document() -> DomainDocument:
    return DomainDocument.parse("<domain type='test'><name>test</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>")


def test_the_foreign_domain_is_not_owned(foreign, foreign_uri):
    status = foreign.status("test")
    assert status.state is DomainState.RUNNING and not status.owned and not status.demo
    assert status.host == foreign_uri  # --connect URI with no configured name: the URI names the host


@pytest.mark.parametrize("operation", ["destroy", "undefine"])
def test_refused_without_force_naming_domain_and_host(foreign, foreign_uri, operation):
    with pytest.raises(NotOwned) as error:
        getattr(foreign, operation)("test")
    assert f"refusing to {operation} test on host {foreign_uri}" in error.value.message
    assert "ownership mark" in error.value.message
    assert "--force" in error.value.hint
    assert foreign.status("test").state is DomainState.RUNNING  # untouched


def test_force_destroys_and_undefines(foreign):
    foreign.destroy("test", force=True)
    assert foreign.status("test").state is DomainState.SHUTOFF
    foreign.undefine("test", force=True)
    assert not foreign.has_domain("test")


def test_redeploy_and_redefine_over_a_foreign_domain_need_force(foreign, foreign_uri):
    with pytest.raises(NotOwned, match="refusing to redeploy"):
        foreign.redeploy(foreign_test_document())
    assert foreign.status("test").state is DomainState.RUNNING and not foreign.status("test").owned
    with pytest.raises(NotOwned, match="refusing to redefine"):
        foreign.define(foreign_test_document())
    assert foreign.redeploy(foreign_test_document(), force=True).words == f"running on host {foreign_uri}"
    assert foreign.status("test").owned  # rfconsole defined it now


def test_down_shuts_a_foreign_domain_down_gracefully_without_force(foreign, foreign_uri):
    # a graceful shutdown is the guest's own decision: allowed; only the destroy after the timeout needs force
    assert foreign.down("test", timeout=5).words == f"shut off on host {foreign_uri}"


def test_redeploy_over_a_transient_domain(tmp_path, workdir, store):
    from rfconsole.config import Config
    from rfconsole.virt.fleet import Fleet

    node = tmp_path / "transient.xml"
    node.write_text(
        "<node><domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
        "<name>test</name><memory unit='MiB'>64</memory><os><type>hvm</type></os><test:transient/></domain></node>"
    )
    fleet = Fleet(Config.load(workdir), store, connect=f"test://{node}")
    try:
        stages = []
        # destroying a transient domain makes it vanish: there is nothing left to undefine
        assert fleet.redeploy(foreign_test_document(), force=True, stage=stages.append).words.startswith("running")
        assert stages == ["destroy", "define", "start"]
        assert fleet.status("test").owned
    finally:
        fleet.close()
