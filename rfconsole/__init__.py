"""rfconsole: set up and boot RouteFlow's virtual machines on any libvirt hypervisor."""

__version__ = "0.1.0"
