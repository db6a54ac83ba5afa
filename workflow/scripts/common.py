"""Shared by the rule scripts: send logging and warnings to the rule's log file."""

import logging
import sys


def _format(job):
    return f"%(asctime)s %(levelname)s {job.replace('%', '%%')} %(message)s"


def _job(snakemake, *cell):
    return " ".join([snakemake.rule, "/".join(map(str, [*snakemake.wildcards, *cell]))]).strip()


def start_log(snakemake):
    """Log to ``snakemake.log[0]``; uncaught errors are logged there too.

    Every line names the rule and its wildcards (``train circles/adam``),
    so lines read on their own, or gathered from many logs, say which job
    wrote them.
    """
    logging.basicConfig(
        filename=snakemake.log[0],
        filemode="w",
        level=logging.INFO,
        format=_format(_job(snakemake)),
    )
    logging.captureWarnings(True)
    log = logging.getLogger(snakemake.rule)

    def log_uncaught(kind, value, traceback):
        log.error("%s", value, exc_info=(kind, value, traceback))
        sys.__excepthook__(kind, value, traceback)

    sys.excepthook = log_uncaught
    return log


def name_cell(snakemake, *cell):
    """Make the next lines name the cell too (``train circles/adam/l2``), in a job that trains several."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(logging.Formatter(_format(_job(snakemake, *cell))))
