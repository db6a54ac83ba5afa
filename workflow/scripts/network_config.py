"""Write the settings a cell's gradient check shares with its training (see rule network_config)."""

from common import start_log

log = start_log(snakemake)

import json

from nnstudy import io

with io.atomic_path(snakemake.output[0]) as tmp:
    tmp.write_text(json.dumps(snakemake.params.config, sort_keys=True, indent=1) + "\n")
