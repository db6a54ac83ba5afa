# The nnstudy study: datasets -> gradient checks -> learning-rate tuning ->
# training of every combination -> tables -> report.
# Run it with `snakemake --cores 4`; see README.md.

from snakemake.utils import min_version

from nnstudy.config import read_yaml

min_version("9.0")


# The default study, unless the command line names other config files: a
# --configfile replaces it instead of being merged into it key by key.
if not workflow.overwrite_configfiles:
    # Read first by our reader, whose syntax errors name the line (Snakemake's do not).
    read_yaml("config/config.yaml")

    configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/scheduling.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/gradcheck.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/variance.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/budget.smk"
include: "workflow/rules/protocols.smk"
include: "workflow/rules/replication.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/vectorization.smk"
include: "workflow/rules/lectures.smk"
include: "workflow/rules/provenance.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
        paths.crate_metadata(),
