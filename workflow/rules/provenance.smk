# An RO-Crate description of the finished study (nnstudy.provenance): the
# results folder becomes an archivable crate, with every file's checksum.


rule provenance:
    input:
        final_outputs(),
    output:
        report(
            paths.crate_metadata(),
            caption="../report/provenance.rst",
            category="Provenance",
        ),
    log:
        "logs/provenance.log",
    conda:
        "../envs/nnstudy.yaml"
    params:
        config=config,
        config_files=workflow.configfiles,
        repo=workflow.basedir,
    script:
        "../scripts/provenance.py"
