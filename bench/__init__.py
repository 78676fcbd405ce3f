"""rfconsole's benchmarks: speed measured as ratios against a baseline timed in the same run.

The convention every module here follows (``python -m bench`` relies on it):

- one module per subject (``bench/redeploy.py``, ``bench/ondemand.py``, ``bench/tui.py`` …);
  modules whose name starts with ``_`` and ``common`` are not benchmarks;
- each exposes ``run() -> list[dict]`` and is runnable alone (``python -m bench.redeploy``);
- each row is a dict with at least
    ``bench``       "<module>.<measurement>", e.g. "redeploy.four_vms";
    ``baseline``    what the value is compared with, in words (None when there is none);
    ``baseline_s``  the baseline's time in seconds, measured in the same run (or None);
    ``value_s``     rfconsole's time in seconds;
    ``ratio``       value_s / baseline_s (below 1: rfconsole is faster), or None;
  and any further keys the module wants to report (repeats, p99_s, domains …);
  ``bench.common.row`` builds one;
- a benchmark never fails on a time: it reports. It fails (raises) only when it cannot measure.

``python -m bench`` runs every module (or those named: ``python -m bench redeploy``), prints one
table and the machine it ran on; ``--json`` prints the rows as JSON instead.
The numbers of record live in docs/performance.md.
"""
