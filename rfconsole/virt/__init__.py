"""libvirt: hosts and connections, the event-loop thread, lifecycle, capabilities, the demo driver.

The only package of rfconsole that imports ``libvirt``. See docs/architecture.md and
docs/lifecycle.md.
"""
