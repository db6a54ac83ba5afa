# Job selection runs when a job ends, not once a second per finished job.
#
# Snakemake 9's scheduler limits how many jobs start per timespan (100 a
# second by default). After every selection it arms a timer that starts
# another selection one timespan later, and each finished job starts one
# more selection of its own: every job that ends starts a chain of timers
# that never stops while jobs wait. With hundreds of waiting jobs, each
# selection checks every waiting job's input files, and late in the default
# study the scheduler spent most of a core on it, beside two cores' worth of
# training (measured: 4 min 52 s of CPU in the first 12 min). Locally the
# limit guards nothing, as a job takes far longer than a hundredth of a
# second to start, so it is lifted there; a cluster executor keeps it.


onstart:
    select_jobs_on_events_only(workflow)


def select_jobs_on_events_only(workflow):
    """Drop the job-start limit of a local run, and with it the timer chains."""
    scheduler = workflow.scheduler
    if workflow.local_exec and getattr(scheduler, "job_rate_limiter", None):
        scheduler.job_rate_limiter = None
