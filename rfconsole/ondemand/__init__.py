"""On-demand boot: an OpenFlow listener that sees switches connect, and a booter that starts
the VMs mapped to them. See docs/ondemand.md."""
