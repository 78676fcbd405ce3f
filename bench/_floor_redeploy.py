"""The floor of redeploy: what bare libvirt-python needs to redeploy VMs, nothing checked.

    python bench/_floor_redeploy.py URI XML_DIR NAME...

One connection, one thread per VM: look the domain up, destroy it if it runs, undefine it, define
XML_DIR/NAME.xml, start it. bench/redeploy.py times this as a process (Python's start-up and
``import libvirt`` included), as it times ``rfconsole redeploy``. Exits 1 when a VM failed.
"""

import sys
import threading

import libvirt


def redeploy(connection: libvirt.virConnect, xml_dir: str, name: str, failures: list[str]) -> None:
    try:
        with open(f"{xml_dir}/{name}.xml", encoding="utf-8") as file:
            xml = file.read()
        try:
            domain = connection.lookupByName(name)
        except libvirt.libvirtError:
            domain = None
        if domain is not None:
            if domain.isActive():
                domain.destroy()
            domain.undefine()
        connection.defineXML(xml).create()
    except (OSError, libvirt.libvirtError) as error:
        failures.append(f"{name}: {error}")


def main() -> int:
    uri, xml_dir, *names = sys.argv[1:]
    libvirt.registerErrorHandler(lambda _context, _error: None, None)
    connection = libvirt.open(uri)
    failures: list[str] = []
    threads = [threading.Thread(target=redeploy, args=(connection, xml_dir, name, failures)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connection.close()
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
