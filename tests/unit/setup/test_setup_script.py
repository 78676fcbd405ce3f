"""scripts/setup.sh installs every program rfconsole, its tests, scripts and bench run, and
stops naming the Debian package when one is still missing."""

import os
import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SETUP = REPO / "scripts" / "setup.sh"


def listed_commands() -> dict[str, str]:
    """command -> Debian package, as COMMANDS in scripts/setup.sh lists them."""
    block = re.search(r"^COMMANDS=\((.*?)^\)", SETUP.read_text(), re.S | re.M).group(1)
    pairs = [line.split("#")[0].strip() for line in block.splitlines()]
    return dict(pair.rsplit(":", 1) for pair in pairs if pair)


def run_check(path: str) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash")
    return subprocess.run([bash, str(SETUP), "--check"], env={"PATH": path}, capture_output=True, text=True, timeout=30)


def test_a_missing_command_stops_the_set_up_naming_its_package(tmp_path):
    """A PATH holding every listed command but xmllint: the check fails and names libxml2-utils."""
    for command in listed_commands():
        found = shutil.which(command)
        if command != "xmllint" and found and not command.startswith("/"):
            (tmp_path / command).symlink_to(found)
    result = run_check(str(tmp_path))
    assert result.returncode == 1
    assert "xmllint (Debian package libxml2-utils)" in result.stderr
    assert "virsh" not in result.stderr


def test_every_listed_command_is_installed_here():
    result = run_check(os.environ["PATH"])
    assert result.returncode == 0, result.stderr


def programs_run_by_python() -> set[str]:
    """Programs named literally where Python code runs one (subprocess, a _run/_virsh helper, which)."""
    pattern = re.compile(r"""(?:subprocess\.\w+\(\s*\[?|_run\(|_command_output\(|shutil\.which\()\s*["']([\w./-]+)["']""")
    found = set()
    for folder in ("rfconsole", "tests", "bench", "scripts"):
        for path in (REPO / folder).rglob("*.py"):
            found.update(pattern.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_program_the_python_code_runs_is_listed():
    listed = {Path(command).name for command in listed_commands()}
    programs = programs_run_by_python()
    assert {"virsh", "tmux", "ovs-vsctl", "virt-xml-validate"} <= programs  # the scan sees them
    assert programs - listed == set()
    assert "xmllint" in listed  # virt-xml-validate is a shell script that runs it
    assert "xz" in listed  # tar runs it to unpack libvirt's .orig.tar.xz (scripts/fetch-libvirt-corpus.sh)
    assert "dnsmasq" in listed  # libvirtd runs it for the DHCP of a libvirt network (tests' dhcp_network)


def test_every_program_the_shell_scripts_run_is_listed():
    listed = {Path(command).name for command in listed_commands()}
    scripts = "\n".join(path.read_text() for path in (REPO / "scripts").glob("*.sh"))
    for program in ("virsh", "ovs-vsctl", "ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-appctl", "unshare", "setsid",
                    "mountpoint", "umount", "useradd", "groupadd", "cpio", "dpkg-deb", "apt-get", "apt-cache", "busybox",
                    "libvirtd", "virtlogd", "getent", "ps", "tar"):
        assert re.search(rf"(^|[\s(/\"]){re.escape(program)}\b", scripts), program
        assert program in listed, program
