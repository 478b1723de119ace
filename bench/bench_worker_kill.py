"""Drill: the worker is killed mid-embedding; how soon its batches are taken again, and whether every track
ends with exactly one vector.

    .venv/bin/python bench/bench_worker_kill.py [--tracks 40] [--seconds-per-track 30] [--model musicnn]
        [--mode process|cluster|both] [--runs 1] [--batch-size 4]

On a data directory of its own (its own embedded PostgreSQL, removed afterwards) it writes --tracks real FLAC
clips, reads them in with `ingest_folder` (which queues the embedding batches, as an operator's would be),
starts `manage.py qcluster` with one worker, waits until --kill-after batches are done and the next one runs,
and then:

- `--mode process`: SIGKILL to the worker process running that batch; its cluster lives on;
- `--mode cluster`: SIGKILL to every process of the cluster (sentinel, pusher, monitor, worker), then a new
  cluster is started --restart-after seconds later.

The stranded batches are those the killed holder had taken and not finished (the worker's one; all the
cluster had taken). Reported per run: seconds from the kill (process) or from the new start (cluster) until
each stranded batch was back in the queue and until a cluster took it again (its lease's take time,
discovery/jobs), until every track was done; vectors stored against tracks, tracks with more than one
vector, batches started again although the kill had not interrupted them (from the workers' logs), and
failed jobs. Exits 1 if a vector is lost or duplicated, a batch ran twice, a job or track failed, nothing
was stranded, or a stranded batch waited more than 120 s to be taken again.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RECOVERY_LIMIT_S = 120.0  # issue 9: stranded batches are taken again within 2 minutes
POLL_S = 0.05
STARTED = re.compile(r" processing (\S+) 'embedding\.tasks\.embed_tracks'")  # a worker starts a job


@dataclass
class Cluster:
    process: subprocess.Popen
    log: Path
    started: float


@dataclass
class Run:
    mode: str
    tracks: int = 0
    batches: int = 0
    stranded: int = 0
    released_s: list[float] = field(default_factory=list)  # per stranded batch, from the kill or the new start
    retaken_s: list[float] = field(default_factory=list)  # the same, until a cluster took it again
    done_s: float = float("nan")  # all tracks done, from the same moment
    vectors: int = 0
    duplicated: int = 0
    run_twice: int = 0  # batches started again although the kill did not interrupt them
    failed_jobs: int = 0
    failed_tracks: int = 0
    finished_before_kill: int = 0
    load: float = float("nan")  # the machine's 1-minute load average when all was done
    problems: list[str] = field(default_factory=list)

    @property
    def recovery_s(self) -> float:
        return max(self.retaken_s) if self.retaken_s else float("nan")


def write_clips(folder: Path, count: int, seconds: float) -> None:
    """`count` different pieces (tempo and hi-hat vary), FLAC at 22.05 kHz stereo: a real codec, cheap to make."""
    from tests.audio_samples import music, write_clip

    folder.mkdir(parents=True)
    for index in range(count):
        piece = music(seconds, 22050, bpm=80.0 + 2.5 * index, seed=index)
        write_clip(folder / f"piece-{index:03d}.flac", seconds, 22050, 2, "flac", piece)


def setup_database(model_name: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from embedding.base import load_embedder
    from embedding.services import default_model_name, register_model

    if default_model_name() != model_name:  # ingest_folder queues the site's default model
        model = register_model(load_embedder(model_name, device="cpu"))
        model.is_default = True
        model.save()


def ingest(clips: Path) -> tuple[list[int], dict[int, str]]:
    """Read the clips in afresh as the operator would; the tracks' ids and the queued jobs (ack id -> name)."""
    from django.core.management import call_command
    from django_q.models import OrmQ

    from tracks.models import Track

    Track.objects.all().delete()  # the previous run's; the files stay (they are the operator's)
    OrmQ.objects.all().delete()
    with open(os.devnull, "w") as quiet:
        call_command("ingest_folder", str(clips), stdout=quiet, stderr=quiet)
    ids = list(Track.objects.order_by("pk").values_list("pk", flat=True))
    jobs = {job.pk: job.name() for job in OrmQ.objects.all() if job.func() == "embedding.tasks.embed_tracks"}
    if not ids or not jobs:
        raise SystemExit(f"ingest_folder added {len(ids)} tracks and queued {len(jobs)} embedding batches.")
    return ids, jobs


def start_cluster(log: Path) -> Cluster:
    env = {**os.environ, "Q_WORKERS": "1", "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO"}
    with open(log, "a") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the cluster drill and the clean-up reach all of it
        )
    return Cluster(process, log, time.time())


def log_tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])  # the folder goes with the clean-up


def cluster_processes(cluster: Cluster) -> list:
    import psutil

    try:
        root = psutil.Process(cluster.process.pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def kill_cluster(cluster: Cluster) -> None:
    """SIGKILL to every process of the cluster, as a power cut or the OOM killer on its group would."""
    for process in cluster_processes(cluster):
        try:
            process.send_signal(signal.SIGKILL)
        except Exception:
            pass
    try:
        os.killpg(cluster.process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    cluster.process.wait()


def stop_cluster(cluster: Cluster) -> None:
    if cluster.process.poll() is not None:
        return
    os.killpg(cluster.process.pid, signal.SIGTERM)
    try:
        cluster.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        kill_cluster(cluster)


def as_epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=moment.tzinfo or UTC).timestamp()


def kill_during_a_batch(cluster: Cluster, mode: str, jobs: dict[int, str], kill_after: int, limit: float):
    """Wait until `kill_after` batches are done and another runs, then kill; (kill time, stranded job ids,
    the job that was running)."""
    from django_q.models import OrmQ

    from discovery.jobs.models import JobLease

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if cluster.process.poll() is not None:
            raise SystemExit(f"qcluster exited with {cluster.process.returncode}:\n{log_tail(cluster.log)}")
        # Done means acknowledged (the job left the queue), not only saved: killing in between is another drill.
        if len(jobs) - OrmQ.objects.filter(pk__in=jobs).count() >= kill_after:
            running = (
                JobLease.objects.filter(job_id__in=jobs, started__isnull=False, worker_pid__isnull=False)
                .order_by("-started")
                .first()
            )
            pids = {process.pid for process in cluster_processes(cluster)}
            if running is not None and running.worker_pid in pids:
                if mode == "process":
                    os.kill(running.worker_pid, signal.SIGKILL)
                    killed = time.time()
                    held = {running.job_id}  # the batches its cluster holds in its queue are not stranded
                else:
                    kill_cluster(cluster)
                    killed = time.time()
                    held = set(
                        JobLease.objects.filter(cluster_key=running.cluster_key).values_list("job_id", flat=True)
                    )
                # Taken and not acknowledged: a job's lease goes with it when it is done.
                stranded = set(OrmQ.objects.filter(pk__in=held & jobs.keys()).values_list("pk", flat=True))
                return killed, stranded, running.job_id
        time.sleep(POLL_S)
    raise SystemExit(f"No batch was running within {limit:.0f} s:\n{log_tail(cluster.log)}")


@dataclass
class Watched:
    released: dict[int, float]  # stranded job -> epoch it was seen unlocked in the queue again
    retaken: dict[int, float]  # stranded job -> epoch a cluster took it again (its lease's take time)
    done: float  # epoch every track was done
    unseen: set[int]  # stranded jobs acknowledged without being taken again: done before the kill landed


def watch(stranded: set[int], killed: float, ids: list[int], jobs: dict[int, str], limit: float) -> Watched:
    """Poll until every track is done, noting when each stranded job was released and taken again."""
    from django_q.models import OrmQ

    from discovery.jobs.models import JobLease
    from tracks.models import Track

    released: dict[int, float] = {}
    retaken: dict[int, float] = {}
    unseen: set[int] = set()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        now = time.time()
        waiting = stranded - retaken.keys() - unseen
        for job_id, taken in JobLease.objects.filter(job_id__in=waiting).values_list("job_id", "taken"):
            if as_epoch(taken) > killed:
                retaken[job_id] = as_epoch(taken)
                released.setdefault(job_id, retaken[job_id])  # released and taken between two looks
        locks = dict(OrmQ.objects.filter(pk__in=jobs).values_list("pk", "lock"))
        for job_id in waiting - retaken.keys() - released.keys():
            if job_id in locks and as_epoch(locks[job_id]) <= now:
                released[job_id] = now
        unseen |= waiting - retaken.keys() - locks.keys()
        if not locks and not Track.objects.filter(pk__in=ids, status=Track.Status.PENDING).exists():
            return Watched(released, retaken, time.time(), unseen)
        time.sleep(POLL_S)
    raise SystemExit(f"Not every track was done within {limit:.0f} s of the kill.")


def count_outcome(run: Run, ids: list[int], jobs: dict[int, str], running: int, model_name: str, logs: list[Path]):
    from django.db.models import Count
    from django_q.models import Task

    from embedding.models import TrackEmbedding
    from tracks.models import Track

    vectors = TrackEmbedding.objects.filter(track_id__in=ids, model__name=model_name)
    run.vectors = vectors.count()
    run.duplicated = vectors.values("track_id").annotate(n=Count("id")).filter(n__gt=1).count()
    run.failed_tracks = Track.objects.filter(pk__in=ids, status=Track.Status.FAILED).count()
    run.failed_jobs = Task.objects.filter(name__in=jobs.values(), success=False).count()
    starts = Counter(name for log in logs for name in STARTED.findall(log.read_text()))
    # Each batch starts once, and the one the kill interrupted once more.
    run.run_twice = sum(1 for job, name in jobs.items() if starts[name] > 1 + (job == running))


def drill(mode: str, clips: Path, work: Path, number: int, args) -> Run:
    run = Run(mode)
    ids, jobs = ingest(clips)
    run.tracks, run.batches = len(ids), len(jobs)
    from django.db import connection

    connection.close()  # no connection of ours is open while processes are killed
    clusters = [start_cluster(work / f"run-{number}-cluster-1.log")]
    try:
        killed, stranded, running = kill_during_a_batch(clusters[0], mode, jobs, args.kill_after, args.limit)
        run.stranded = len(stranded)
        since = killed
        if mode == "cluster":
            time.sleep(args.restart_after)
            clusters.append(start_cluster(work / f"run-{number}-cluster-2.log"))
            since = clusters[-1].started
        seen = watch(stranded, killed, ids, jobs, args.limit)
        run.released_s = sorted(moment - since for moment in seen.released.values())
        run.retaken_s = sorted(moment - since for moment in seen.retaken.values())
        run.done_s = seen.done - since
        run.load = os.getloadavg()[0]
        # A batch that was done when the kill landed (acknowledged just after) was not stranded after all.
        run.stranded = len(stranded - seen.unseen)
        run.finished_before_kill = len(seen.unseen)
    finally:
        for cluster in clusters:
            stop_cluster(cluster)
    count_outcome(run, ids, jobs, running, args.model, [cluster.log for cluster in clusters])
    if run.vectors != run.tracks - run.failed_tracks:
        run.problems.append(f"{run.tracks - run.failed_tracks - run.vectors} vector(s) lost")
    if run.failed_tracks:
        run.problems.append(f"{run.failed_tracks} track(s) failed")
    if run.duplicated:
        run.problems.append(f"{run.duplicated} track(s) with more than one vector")
    if run.run_twice:
        run.problems.append(f"{run.run_twice} batch(es) run again although done")
    if run.failed_jobs:
        run.problems.append(f"{run.failed_jobs} failed job(s)")
    if not run.stranded:
        run.problems.append("the kill stranded no batch")
    if run.recovery_s > RECOVERY_LIMIT_S:
        run.problems.append(f"a stranded batch waited {run.recovery_s:.1f} s")
    return run


def stop_database(data_dir: Path) -> None:
    """Stop the drill's own PostgreSQL (its killed clients never signed off, so it would not stop by itself)."""
    import psutil
    from django.db import connections

    connections.close_all()
    pid_file = data_dir / "postgres" / "postmaster.pid"
    if not pid_file.exists():
        return
    try:
        postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
        postmaster.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
        postmaster.wait(timeout=30)
    except (psutil.NoSuchProcess, ValueError, IndexError):
        pass
    except psutil.TimeoutExpired:
        postmaster.kill()


def seconds(values) -> str:
    if isinstance(values, float):
        return f"{values:.1f}"
    return ", ".join(f"{value:.1f}" for value in values) or "-"


def print_table(runs: list[Run], since: dict[str, str]) -> None:
    print("| run | mode | tracks | batches | stranded | released after (s) | taken again after (s) | "
          "all done after (s) | vectors | duplicated | batches run twice | failed jobs | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for number, run in enumerate(runs, 1):
        print(f"| {number} | {run.mode} | {run.tracks} | {run.batches} | {run.stranded} | {seconds(run.released_s)} | "
              f"{seconds(run.retaken_s)} | {seconds(run.done_s)} | {run.vectors} | {run.duplicated} | "
              f"{run.run_twice} | {run.failed_jobs} | {run.load:.1f} |")
    for mode in sorted({run.mode for run in runs}):
        of_mode = [run for run in runs if run.mode == mode]
        released = statistics.median(max(run.released_s, default=float("nan")) for run in of_mode)
        recovery = statistics.median(run.recovery_s for run in of_mode)
        done = statistics.median(run.done_s for run in of_mode)
        print(f"{mode}: medians of {len(of_mode)} run(s), seconds {since[mode]}: last stranded batch released "
              f"{seconds(released)}, taken again {seconds(recovery)}, all done {seconds(done)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=40)
    parser.add_argument("--seconds-per-track", type=float, default=30.0)
    parser.add_argument("--model", default="musicnn", help="musicnn (default) or spectral for a fast run")
    parser.add_argument("--mode", choices=("process", "cluster", "both"), default="both")
    parser.add_argument("--runs", type=int, default=1, help="runs per mode")
    parser.add_argument("--batch-size", type=int, default=4, help="tracks per queued batch (EMBED_BATCH_SIZE)")
    parser.add_argument("--kill-after", type=int, default=2, help="batches done before the kill (model loaded)")
    parser.add_argument("--restart-after", type=float, default=5.0, help="seconds before the new cluster starts")
    parser.add_argument("--limit", type=float, default=600.0, help="give up on a run after this many seconds")
    parser.add_argument("--keep-logs", type=Path, help="copy the clusters' logs into this folder")
    args = parser.parse_args()
    if args.tracks < (args.kill_after + 1) * args.batch_size:
        parser.error("--tracks must leave a batch to kill after --kill-after batches of --batch-size.")

    work = Path(tempfile.mkdtemp(prefix="wavelength-worker-kill-"))
    os.environ.update({"WAVELENGTH_DATA": str(work / "data"), "DJANGO_SETTINGS_MODULE": "discovery.settings",
                       "EMBED_BATCH_SIZE": str(args.batch_size), "EMBED_DEVICE": "cpu",
                       "LOG_LEVEL": "WARNING"})  # the clusters log at INFO (start_cluster)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)  # the drill is of the database queue's leases
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the clean-up below runs
    modes = ("process", "cluster") if args.mode == "both" else (args.mode,)
    runs: list[Run] = []
    try:
        write_clips(work / "clips", args.tracks, args.seconds_per_track)
        setup_database(args.model)
        for number in range(args.runs * len(modes)):
            mode = modes[number % len(modes)]
            runs.append(drill(mode, work / "clips", work, number + 1, args))
            print(f"run {number + 1} ({mode}): " + "; ".join(run_summary(runs[-1])), flush=True)
    finally:
        if "django" in sys.modules and os.environ.get("WAVELENGTH_DATA"):
            stop_database(work / "data")
        if args.keep_logs:
            args.keep_logs.mkdir(parents=True, exist_ok=True)
            for log in work.glob("run-*.log"):
                shutil.copy(log, args.keep_logs)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{args.tracks} tracks x {args.seconds_per_track:g} s, {args.model}, batches of {args.batch_size}, "
          "one worker")
    since = {"process": "from the kill", "cluster": f"from the new start ({args.restart_after:g} s after the kill)"}
    print_table(runs, since)
    problems = [f"run {number}: {problem}" for number, run in enumerate(runs, 1) for problem in run.problems]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def run_summary(run: Run) -> list[str]:
    return [
        f"{run.stranded} stranded",
        f"released after {seconds(run.released_s)} s",
        f"taken again after {seconds(run.retaken_s)} s",
        f"all done after {seconds(run.done_s)} s",
        f"{run.vectors}/{run.tracks} vectors",
        *([f"{run.finished_before_kill} batch(es) finished as the kill landed"] if run.finished_before_kill else []),
        *run.problems,
    ]


if __name__ == "__main__":
    sys.exit(main())
