"""The embedded demo: libvirt's test driver loaded with rftest2's rfvmA–rfvmD, shut off.

The node XML ships inside the package (``demo_node.xml``). Every open of its URI starts from the
file again, so the demo's state lives as long as the one connection of the process's Fleet.
"""

from __future__ import annotations

from pathlib import Path

DEMO_HOST = "demo"
DEMO_NODE_XML = Path(__file__).resolve().with_name("demo_node.xml")
DEMO_BANNER = "demo driver (libvirt test:///): nothing real runs"


def demo_uri(node_xml: Path = DEMO_NODE_XML) -> str:
    """test:///<absolute path of the node XML>."""
    return "test://" + str(Path(node_xml).resolve())


def is_demo_uri(uri: str) -> bool:
    return uri == demo_uri()
