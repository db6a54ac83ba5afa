"""Describe the finished study's results folder as an RO-Crate (results/ro-crate-metadata.json)."""

import json
from datetime import datetime, timezone
from pathlib import Path

from common import start_log

log = start_log(snakemake)

from nnstudy import io, provenance
from nnstudy.analysis.tables import package_versions

crate_path = Path(snakemake.output[0])
root = crate_path.parent
# Every file in the folder being archived, not only this run's targets;
# hidden files are Snakemake's bookkeeping.
outputs = [p for p in root.rglob("*") if p.is_file() and not any(s.startswith(".") for s in p.relative_to(root).parts)]
inputs = provenance.study_inputs(snakemake.params.config, snakemake.params.config_files)
commit, dirty = provenance.git_state(snakemake.params.repo)
document = provenance.crate(
    root,
    outputs,
    inputs,
    snakemake.params.config,
    commit + ("-dirty" if dirty else ""),
    package_versions(),
    datetime.now(timezone.utc).isoformat(timespec="seconds"),
)
with io.atomic_path(crate_path) as tmp:
    tmp.write_text(json.dumps(document, indent=1) + "\n")
log.info("%d result files and %d input files described in %s", len(outputs), len(inputs), crate_path)
